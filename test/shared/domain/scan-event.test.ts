import { describe, expect, it } from 'vitest';
import { repositoryNameOf, scanEventMeaning } from '../../../shared/domain/scan-event.js';
import {
  ecrImageScanEvent,
  inspector2InstanceScanEvent,
  inspector2ScanEvent,
} from '../../fixtures/ecr/scan-events.js';
import { DIGEST } from '../../fixtures/ecr/scan-findings.js';

const GATED = ['itdo-erp/backend'];

describe('scanEventMeaning', () => {
  it('wakes the runs of the image on a completed basic scan (ECR Image Scan)', () => {
    expect(scanEventMeaning(ecrImageScanEvent(), GATED)).toEqual({
      kind: 'wake',
      repository: 'itdo-erp/backend',
      digest: DIGEST,
      wakeUp: {
        wokenBy: 'ECR Image Scan',
        scanStatus: 'COMPLETE',
        eventId: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae',
      },
    });
  });

  it('wakes them on a FAILED scan too: the check reads the failure from ECR and judges it', () => {
    const meaning = scanEventMeaning(ecrImageScanEvent({ status: 'FAILED' }), GATED);
    expect(meaning).toMatchObject({ kind: 'wake', wakeUp: { scanStatus: 'FAILED' } });
  });

  it("wakes them on Amazon Inspector's initial scan (Inspector2 Scan), whose repository-name is the ARN", () => {
    expect(scanEventMeaning(inspector2ScanEvent(), GATED)).toEqual({
      kind: 'wake',
      repository: 'itdo-erp/backend',
      digest: DIGEST,
      wakeUp: {
        wokenBy: 'Inspector2 Scan',
        scanStatus: 'INITIAL_SCAN_COMPLETE',
        eventId: 'fdaa751a-984c-a709-44f9-9a9da9cd3606',
      },
    });
  });

  it('ignores a scan of a repository no gated app uses, whichever scanner sent it', () => {
    for (const event of [
      ecrImageScanEvent({ repository: 'itdo-erp/frontend' }),
      inspector2ScanEvent({ repository: 'itdo-erp/frontend' }),
    ]) {
      const meaning = scanEventMeaning(event, GATED);
      expect(meaning.kind).toBe('ignored');
      expect(meaning).toMatchObject({
        reason: expect.stringContaining('itdo-erp/frontend, which no app with a scan gate uses'),
      });
    }
  });

  it('ignores a scan status that does not end the scan', () => {
    expect(scanEventMeaning(inspector2ScanEvent({ status: 'SCAN_ELIGIBILITY_EXPIRED' }), GATED)).toEqual({
      kind: 'ignored',
      reason: 'Inspector2 Scan with scan-status SCAN_ELIGIBILITY_EXPIRED: the scan has not ended',
    });
  });

  it("ignores Inspector's scan of an EC2 instance, naming the missing image fields", () => {
    const meaning = scanEventMeaning(inspector2InstanceScanEvent(), GATED);
    expect(meaning.kind).toBe('ignored');
    expect(meaning).toMatchObject({
      reason: expect.stringMatching(/^malformed Inspector2 Scan event .*detail\.repository-name/),
    });
  });

  it('ignores a malformed event and says which field is wrong', () => {
    const event = ecrImageScanEvent({ digest: 'sha256:not-a-digest' });
    expect(scanEventMeaning(event, GATED)).toEqual({
      kind: 'ignored',
      reason: 'malformed ECR Image Scan event: detail.image-digest: expected an image digest sha256:<64 hex>',
    });
    const noDetail = { ...ecrImageScanEvent(), detail: undefined };
    expect(scanEventMeaning(noDetail, GATED)).toMatchObject({ reason: expect.stringContaining('detail:') });
  });

  it('ignores events of other kinds and values that are not events', () => {
    const push = { ...ecrImageScanEvent(), 'detail-type': 'ECR Image Action' };
    expect(scanEventMeaning(push, GATED)).toEqual({
      kind: 'ignored',
      reason: 'not an ECR Image Scan or Inspector2 Scan event (aws.ecr / ECR Image Action)',
    });
    // A source that is not aws.ecr with ECR's detail type: not ECR's event.
    const forged = { ...ecrImageScanEvent(), source: 'my.app' };
    expect(scanEventMeaning(forged, GATED).kind).toBe('ignored');
    for (const value of [null, 'ECR Image Scan', 42, []]) {
      expect(scanEventMeaning(value, GATED).kind).toBe('ignored');
    }
  });
});

describe('repositoryNameOf', () => {
  it('takes the name out of a repository ARN (any partition) and leaves a name alone', () => {
    expect(repositoryNameOf('arn:aws:ecr:eu-west-1:123456789012:repository/itdo-erp/backend')).toBe(
      'itdo-erp/backend',
    );
    expect(repositoryNameOf('arn:aws-cn:ecr:cn-north-1:123456789012:repository/app')).toBe('app');
    expect(repositoryNameOf('itdo-erp/backend')).toBe('itdo-erp/backend');
  });
});
