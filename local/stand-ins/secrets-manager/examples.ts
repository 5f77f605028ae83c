/**
 * Example ITDO ERP secrets for the sandbox. The values are made up and only exist in the stand-in;
 * secret sync writes their names and key names to the GitOps repository, never these values.
 */
import type { SeedSecret } from './server.js';

export const ITDO_ERP_EXAMPLE_SECRETS: readonly SeedSecret[] = [
  {
    name: 'itdo-erp/production/database',
    description: 'PostgreSQL credentials for the ITDO ERP backend',
    value: {
      host: 'itdo-erp-prod.cluster-example.eu-west-1.rds.amazonaws.com',
      port: '5432',
      dbname: 'itdo_erp',
      username: 'itdo_erp_app',
      password: 'sandbox-only-Xq7vR2mP9kL4',
    },
    tags: { 'shiplane:environment': 'production', 'shiplane:namespace': 'itdo-erp' },
  },
  {
    name: 'itdo-erp/production/redis',
    description: 'Redis AUTH token for the ITDO ERP session store',
    value: {
      url: 'rediss://itdo-erp-prod.example.cache.amazonaws.com:6379',
      token: 'sandbox-only-rT5yU8iO1pA3',
    },
    tags: { 'shiplane:environment': 'production', 'shiplane:namespace': 'itdo-erp' },
  },
  {
    name: 'itdo-erp/production/stripe-api-key',
    description: 'Stripe secret key used by the billing module',
    value: 'sk_test_sandboxOnly4eC39HqLyjWDarjtT1zdp7dc',
    tags: { 'shiplane:environment': 'production', 'shiplane:namespace': 'itdo-erp' },
  },
  {
    name: 'itdo-erp/staging/database',
    description: 'PostgreSQL credentials for the ITDO ERP backend (staging)',
    value: {
      host: 'itdo-erp-staging.cluster-example.eu-west-1.rds.amazonaws.com',
      port: '5432',
      dbname: 'itdo_erp',
      username: 'itdo_erp_app',
      password: 'sandbox-only-Hb6nJ3wE8sZ1',
    },
    tags: { 'shiplane:environment': 'staging', 'shiplane:namespace': 'itdo-erp' },
  },
  {
    name: 'shiplane/github-token',
    description: "Shiplane's own token: not selected by any secrets entry",
    value: 'ghp_sandboxOnly000000000000000000000000',
  },
];
