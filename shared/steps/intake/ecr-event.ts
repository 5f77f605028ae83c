/**
 * The message the intake queue delivers: EventBridge's envelope of an ECR "ECR Image Action" event,
 * exactly as the rule forwards it. Unknown fields are tolerated (ECR adds fields such as
 * `manifest-media-type` over time); the ones Shiplane reads are checked.
 */
import * as z from '../../contracts/zod.js';
import { ECR_TAG, ECR_TAG_PROBLEM, IMAGE_DIGEST, IMAGE_DIGEST_PROBLEM } from '../../domain/release.js';

const nonEmpty = z.string().check(z.minLength(1));
const digest = z.string().check(z.regex(IMAGE_DIGEST, IMAGE_DIGEST_PROBLEM));
// Empty is how some pushes by digest arrive (untagged); the tag itself is never echoed (untrusted text).
const tag = z.string().check(z.refine((text) => text === '' || ECR_TAG.test(text), ECR_TAG_PROBLEM));

export const ecrImageActionEventSchema = z
  .object({
    version: z.string(),
    id: nonEmpty,
    'detail-type': z.literal('ECR Image Action'),
    source: z.literal('aws.ecr'),
    /** The registry's account, which is its registry id. */
    account: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id')),
    time: z.iso.datetime({ offset: true }),
    region: nonEmpty,
    resources: z.array(z.string()),
    detail: z.object({
      /** `SUCCESS` or `FAILURE`. */
      result: nonEmpty,
      'repository-name': nonEmpty,
      /** Absent on some failed actions. */
      'image-digest': z.optional(digest),
      /** `PUSH` or `DELETE`. */
      'action-type': nonEmpty,
      /** Absent (or empty) when an image is pushed by digest only. */
      'image-tag': z.optional(tag),
    }),
  })
  .check(
    z.superRefine((event, ctx) => {
      const { detail } = event;
      if (detail.result === 'SUCCESS' && detail['action-type'] === 'PUSH' && !detail['image-digest']) {
        ctx.addIssue({
          code: 'custom',
          path: ['detail', 'image-digest'],
          message: 'a successful push must carry the image digest',
          input: detail['image-digest'],
        });
      }
    }),
  );

export type EcrImageActionEvent = z.infer<typeof ecrImageActionEventSchema>;
