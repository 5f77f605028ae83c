/**
 * zod for every schema the handlers run: `zod/mini`, whose functions (not methods) let a bundle keep
 * only the checks it uses — classic `zod` attaches every method and its JSON Schema export to every
 * schema, about 70 KB more in each bundle. With the English messages classic zod sets by default, so
 * errors read the same. Import it as a namespace (`import * as z`): re-exporting one namespace
 * object would carry all of zod again.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
