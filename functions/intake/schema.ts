/**
 * The message the intake queue delivers: EventBridge's envelope of an ECR "ECR Image Action" event,
 * exactly as the rule forwards it. Unknown fields are tolerated (ECR adds fields such as
 * `manifest-media-type` over time); the ones Shiplane reads are checked.
 */
import * as z from 'zod';
import { ECR_TAG, ECR_TAG_PROBLEM, IMAGE_DIGEST, IMAGE_DIGEST_PROBLEM } from '../../shared/domain/release.js';

const digest = z.string().regex(IMAGE_DIGEST, IMAGE_DIGEST_PROBLEM);
// Empty is how some pushes by digest arrive (untagged); the tag itself is never echoed (untrusted text).
const tag = z.string().refine((text) => text === '' || ECR_TAG.test(text), ECR_TAG_PROBLEM);

export const ecrImageActionEventSchema = z
  .object({
    version: z.string(),
    id: z.string().min(1),
    'detail-type': z.literal('ECR Image Action'),
    source: z.literal('aws.ecr'),
    /** The registry's account, which is its registry id. */
    account: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
    time: z.iso.datetime({ offset: true }),
    region: z.string().min(1),
    resources: z.array(z.string()),
    detail: z.object({
      /** `SUCCESS` or `FAILURE`. */
      result: z.string().min(1),
      'repository-name': z.string().min(1),
      /** Absent on some failed actions. */
      'image-digest': digest.optional(),
      /** `PUSH` or `DELETE`. */
      'action-type': z.string().min(1),
      /** Absent (or empty) when an image is pushed by digest only. */
      'image-tag': tag.optional(),
    }),
  })
  .superRefine((event, ctx) => {
    const { detail } = event;
    if (detail.result === 'SUCCESS' && detail['action-type'] === 'PUSH' && !detail['image-digest']) {
      ctx.addIssue({
        code: 'custom',
        path: ['detail', 'image-digest'],
        message: 'a successful push must carry the image digest',
      });
    }
  });

export type EcrImageActionEvent = z.infer<typeof ecrImageActionEventSchema>;
