/**
 * What the registry knows about a released image (push time, size, scan findings): context for a
 * person deciding an approval, never a gate. ECR in AWS (shared/adapters/aws/ecr-image-facts.ts).
 */
import type { Release } from '../contracts/tasks.js';
import type { ImageFacts } from '../domain/approval.js';

/** The image's facts; undefined when the registry cannot describe it (the approval goes on). */
export type ImageFactsSource = (release: Release) => Promise<ImageFacts | undefined>;
