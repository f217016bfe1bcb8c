/**
 * What a refused SOQL query costs next to a valid one (issue 13 item 4's finding: every malformed
 * query used to rebuild the SOQL library's parser, ~100 ms of CPU, so a few requests a second could
 * keep a core busy). Parses N malformed and N valid queries with `parseSoql` and prints the CPU
 * time per query of each and their ratio.
 *
 * Run: npx tsx bench/soql-errors.ts [N]
 */
import { parseSoql } from '../src/domain/soql.js';

const n = Number(process.argv[2] ?? 200);
const MALFORMED = [
  '6',
  'SELECT',
  'SELECT Id FROM',
  "SELECT Id FROM WebCart WHERE Name = 'x' AND",
  'Order WHERE',
  "SELECT Id FROM WebCart WHERE Name == 'x'",
  'SELECT Id, FROM WebCart',
];
const VALID = [
  'SELECT Id FROM WebCart',
  "SELECT Id, Name FROM WebCart WHERE Name = 'x' AND Status != 'Closed' ORDER BY Name LIMIT 5",
  'SELECT Id, (SELECT Id FROM CartItems) FROM WebCart',
];

function cpuMsPerQuery(texts: string[]): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    try {
      parseSoql(texts[i % texts.length]!);
    } catch {
      // refused, as expected for the malformed ones
    }
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}

cpuMsPerQuery(VALID); // warm-up: the library builds its parser once
const valid = cpuMsPerQuery(VALID);
const malformed = cpuMsPerQuery(MALFORMED);
console.log(
  `${n} queries each: valid ${valid.toFixed(3)} ms CPU/query, malformed ${malformed.toFixed(3)} ms CPU/query, ratio ${(malformed / valid).toFixed(2)}`,
);
