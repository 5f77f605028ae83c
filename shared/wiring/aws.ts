/**
 * Where an AWS service is reached. In Lambda: nowhere in particular — the SDK takes the region and
 * the function role's credentials from the environment. Locally, for a service that has a local
 * stand-in: its endpoint, its region and placeholder credentials. The client settings (attempts,
 * timeouts) come from the handler's wiring either way.
 */
export interface AwsAccess {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}
