/** Writes scenarios/scenario.schema.json from the zod schema (test/scenarios/runner.test.ts checks it is current). */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/scenarios/schema.js';

writeFileSync(new URL('../scenarios/scenario.schema.json', import.meta.url), `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
