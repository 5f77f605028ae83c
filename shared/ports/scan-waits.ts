/**
 * Runs waiting at a scan gate, by image: the `Wait for the scan` task records its task token here,
 * and the scan-events function finds the tokens to answer when the image's scan ends. In AWS this is
 * the scan waits table (shared/adapters/aws/scan-waits-table.ts); locally the same adapter against the
 * local DynamoDB.
 */

/** One image: a repository's digest. */
export interface ScannedImageKey {
  readonly repository: string;
  readonly digest: string;
}

/** A run's newest token for that image; each poll's wait replaces the one before. */
export interface ScanWaiter {
  readonly execution: string;
  readonly token: string;
}

export interface ScanWaits {
  /** Records (or replaces) `execution`'s token for `image`; the record may go after `expiresAt`. */
  add(image: ScannedImageKey, waiter: ScanWaiter, expiresAt: Date): Promise<void>;
  /** The runs waiting for `image` now, as recorded (read consistently). */
  waiting(image: ScannedImageKey): Promise<readonly ScanWaiter[]>;
  /** Forgets `waiter` only if its token is still the recorded one (a newer wait stays). */
  remove(image: ScannedImageKey, waiter: ScanWaiter): Promise<void>;
}
