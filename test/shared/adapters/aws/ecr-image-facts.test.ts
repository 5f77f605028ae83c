import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ecrImageFacts } from '../../../../shared/adapters/aws/ecr-image-facts.js';
import { recordingReporter, release } from '../../../fixtures/slack/context.js';

const ecr = mockClient(ECRClient);
const pushedAt = new Date('2026-11-26T13:40:00Z');
const facts = () => ecrImageFacts(new ECRClient({}), recordingReporter());

beforeEach(() => {
  ecr.reset();
});

describe('ecrImageFacts', () => {
  it('reads push time, size and the scan summary from DescribeImages', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          registryId: '123456789012',
          repositoryName: 'itdo-erp/backend',
          imageDigest: release().digest,
          imageTags: ['v1.4.2'],
          imageSizeInBytes: 123_456_789,
          imagePushedAt: pushedAt,
          imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
          imageScanFindingsSummary: {
            imageScanCompletedAt: new Date('2026-11-26T13:41:00Z'),
            findingSeverityCounts: { HIGH: 2, LOW: 5 },
          },
        },
      ],
    });
    expect(await facts()(release())).toEqual({
      pushedAt: '2026-11-26T13:40:00.000Z',
      sizeBytes: 123_456_789,
      scan: { status: 'COMPLETE', counts: { HIGH: 2, LOW: 5 }, completedAt: '2026-11-26T13:41:00.000Z' },
    });
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'itdo-erp/backend',
      imageIds: [{ imageDigest: release().digest }],
    });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('reads the enhanced (Inspector) summary from DescribeImages too, and never the findings', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          imagePushedAt: pushedAt,
          imageScanStatus: { status: 'ACTIVE', description: 'Continuous scan is selected for image.' },
          imageScanFindingsSummary: { findingSeverityCounts: { CRITICAL: 1 } },
        },
      ],
    });
    expect(await facts()(release())).toEqual({
      pushedAt: '2026-11-26T13:40:00.000Z',
      scan: { status: 'ACTIVE', counts: { CRITICAL: 1 } },
    });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('leaves the scan out while it is in progress', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imagePushedAt: pushedAt, imageSizeInBytes: 10, imageScanStatus: { status: 'IN_PROGRESS' } },
      ],
    });
    expect(await facts()(release())).toEqual({ pushedAt: '2026-11-26T13:40:00.000Z', sizeBytes: 10 });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('leaves the scan out when the image detail has no summary (it never asks for the findings)', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageSizeInBytes: 10, imageScanStatus: { status: 'COMPLETE' } }] });
    expect(await facts()(release())).toEqual({ sizeBytes: 10 });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('gives nothing, and does not fail, when the image is not found or ECR refuses', async () => {
    ecr
      .on(DescribeImagesCommand)
      .rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await facts()(release())).toBeUndefined();
    ecr
      .on(DescribeImagesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    expect(await facts()(release())).toBeUndefined();
  });
});
