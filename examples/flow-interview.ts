/**
 * A store's own Salesforce Flow metadata run as a flow interview: the engine loads the flow file,
 * the buyer starts an interview on their cart and navigates it screen by screen, a store Apex class
 * (given as a stand-in function) checks the PO number, and its fault message reaches the flow's
 * fault path as $Flow.FaultMessage. The interview is stored, so any engine process on the same
 * database (or this one after a restart) continues it.
 *
 *   1. Write the flow (a .flow-meta.xml file, as Salesforce DX keeps it) and load it: flowSources.
 *   2. engine.startInterview(apiName, inputs, { userId }) → the first screen.
 *   3. engine.navigate(id, { action, answers }, { userId }) → the next screen … → Finished with outputs.
 *
 * Run: npx tsx examples/flow-interview.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine, demo, FlowFault, type Interview } from 'checkout-engine';

const ref = (name: string) => `<value><elementReference>${name}</elementReference></value>`;
const variable = (name: string, io: 'isInput' | 'isOutput' | 'none') =>
  `<variables><name>${name}</name><dataType>String</dataType><isCollection>false</isCollection><isInput>${io === 'isInput'}</isInput><isOutput>${io === 'isOutput'}</isOutput></variables>`;
const screen = (name: string, next: string | null, fields: string) =>
  `<screens><name>${name}</name><label>${name.replace(/_/g, ' ')}</label><allowBack>true</allowBack><allowFinish>true</allowFinish><allowPause>false</allowPause><showFooter>true</showFooter><showHeader>false</showHeader>${fields}${next ? `<connector><targetReference>${next}</targetReference></connector>` : ''}</screens>`;

const flowXml = `<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
  <apiVersion>55.0</apiVersion><label>PO Checkout</label><processType>CheckoutFlow</processType><status>Active</status>
  <start><connector><targetReference>Welcome</targetReference></connector></start>
  ${screen('Welcome', 'Ask_PO', '<fields><name>Hello</name><fieldText>&lt;p&gt;Your cart {!cartId}&lt;/p&gt;</fieldText><fieldType>DisplayText</fieldType></fields>')}
  ${screen('Ask_PO', 'Check_PO', `<fields><name>Problem</name><fieldText>{!problem}</fieldText><fieldType>DisplayText</fieldType></fields><fields><name>PO</name><extensionName>c:poNumberInput</extensionName><fieldType>ComponentInstance</fieldType><outputParameters><assignToReference>poNumber</assignToReference><name>poNumber</name></outputParameters><isRequired>true</isRequired><storeOutputAutomatically>false</storeOutputAutomatically></fields>`)}
  <actionCalls><name>Check_PO</name><label>Check PO</label><actionName>PoNumberCheck</actionName><actionType>apex</actionType>
    <inputParameters><name>poNumber</name>${ref('poNumber')}</inputParameters>
    <outputParameters><assignToReference>result</assignToReference><name>normalized</name></outputParameters>
    <storeOutputAutomatically>false</storeOutputAutomatically>
    <faultConnector><targetReference>Explain</targetReference></faultConnector></actionCalls>
  <assignments><name>Explain</name><label>Explain</label><assignmentItems><assignToReference>problem</assignToReference><operator>Assign</operator>${ref('$Flow.FaultMessage')}</assignmentItems>
    <connector><targetReference>Ask_PO</targetReference></connector></assignments>
  ${variable('cartId', 'isInput')}${variable('poNumber', 'none')}${variable('problem', 'none')}${variable('result', 'isOutput')}
</Flow>
`;

const dir = mkdtempSync(join(tmpdir(), 'flow-example-'));
writeFileSync(join(dir, 'PO_Checkout.flow-meta.xml'), flowXml);

const engine = await createCheckoutEngine({
  storage: ':memory:',
  flowSources: [dir],
  // The store's Apex class, as a stand-in: a thrown FlowFault is the flow's $Flow.FaultMessage.
  apex: {
    PoNumberCheck: async ({ poNumber }) => {
      if (typeof poNumber !== 'string' || !/^PO-\d+$/i.test(poNumber))
        throw new FlowFault(`'${String(poNumber)}' is not a PO number (PO-<digits>).`);
      return { normalized: poNumber.toUpperCase() };
    },
  },
  // The store's LWC screen component: its outputs are the buyer's answers, trimmed.
  components: { 'c:poNumberInput': async (_inputs, answers) => ({ poNumber: String(answers.poNumber ?? '').trim() }) },
});
const show = (iv: Interview) => {
  const note = iv.screen?.fields.find((f) => f.name === 'Problem')?.inputs.text;
  console.log(
    `  ${iv.status}${iv.screen ? ` at ${iv.screen.name} (${iv.screen.availableActions.join('/')})` : ''}${note ? ` — says: ${String(note)}` : ''}${iv.outputs ? ` outputs ${JSON.stringify(iv.outputs)}` : ''}`,
  );
};
try {
  const { buyerId, cartId } = await demo.newCart(engine, { lines: 2, groups: 1 });
  const as = { userId: buyerId };
  let iv = await engine.startInterview('PO_Checkout', { cartId }, as);
  console.log(`Interview ${iv.id} of ${iv.flowApiName}:`);
  show(iv);
  iv = await engine.navigate(iv.id, { action: 'NEXT' }, as);
  show(iv);
  // A bad PO: the Apex stand-in faults, the flow explains and shows the PO screen again.
  iv = await engine.navigate(iv.id, { action: 'NEXT', answers: { PO: { poNumber: 'next week' } } }, as);
  show(iv);
  iv = await engine.navigate(iv.id, { action: 'NEXT', answers: { PO: { poNumber: ' po-1234 ' } } }, as);
  show(iv);
  if (iv.status !== 'Finished' || iv.outputs?.result !== 'PO-1234') throw new Error('the interview did not finish as expected');
  // Another buyer can't see it: it answers as a missing interview.
  const other = await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
  const hidden = await engine.getInterview(iv.id, { userId: other.buyerId }).catch((e: Error) => e.message);
  console.log(`  another buyer reading it: ${String(hidden)}`);
  console.log('✓ the flow ran as an interview: screens, an Apex stand-in with a fault path, outputs');
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
