/**
 * The CDK app (`npm run synth`, `npx cdk deploy`). The config comes from shiplane.config.yaml, or the
 * file named by `-c config=FILE` or SHIPLANE_CONFIG_FILE.
 */
import { App } from 'aws-cdk-lib';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../shared/config/load.js';
import { ConfigError } from '../shared/errors.js';
import { ShiplaneStack } from './stack.js';
import { addNagChecks, STACK_NAME, stackEnvironment } from './synth.js';

const app = new App();
const context: unknown = app.node.tryGetContext('config');
const file =
  typeof context === 'string' ? context : (process.env.SHIPLANE_CONFIG_FILE ?? DEFAULT_CONFIG_FILE);

try {
  const config = await loadConfig(file);
  new ShiplaneStack(app, STACK_NAME, { config, env: stackEnvironment() });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
addNagChecks(app);
app.synth();
