/**
 * Where an image's labels (its config's `config.Labels`) are read: ECR in AWS
 * (shared/adapters/aws/ecr-image-labels.ts). notify reads them once per run, for lead time.
 */
import type { Release } from '../contracts/tasks.js';

/** The image's labels; empty when it has none. Throws, saying why, when the image cannot be read. */
export type ImageLabelsSource = (release: Release) => Promise<Readonly<Record<string, string>>>;
