// A connector replacement on the real engines: CloudFormation creates the new connector (a new name, so no offsets) before it deletes
// the old one in the update's cleanup phase, and both use the one replication slot. The synthesized PostgreSQL configuration runs as
// the old connector; the same configuration under a new name runs on its own Kafka Connect worker (MSK Connect gives each connector
// its own workers) as the replacement. It snapshots, finds the slot in use, fails its stream start after Debezium's 6 x 10 s, and
// restarts through errors.max.retries=-1 without failing; once the old connector is deleted it streams from the slot, and every change
// committed during the overlap and after the old connector stopped is on the topic, in commit order.
import * as fs from 'fs';
import { exampleApp, startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase } from '../../cli/dev/engines/pipeline';
import { postgresVersion } from '../../lambda/shared/envelope';
import { startConnect, TopicReader, type LocalConnect, type ReadRecord } from './harness';

const TOPIC = 'agentdata.public.customers';
/** Longer than Debezium's 6 x 10 s slot retries plus the first restart's 10 s wait, so the overlap spans at least one restart. */
const OVERLAP_MS = 85_000;

let source: SourceDatabase;
let pipeline: EnginePipeline;
let reader: TopicReader;
let replacementWorker: LocalConnect;
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  source = await startSourceDatabase();
  pipeline = await startEnginePipeline({ example: synthesizeExample('development', exampleApp()), source, log: l => process.stdout.write(`engines: ${l}\n`) });
  reader = new TopicReader(pipeline.kafka.bootstrapServers, TOPIC.replace(/\./g, '\\.'));
  await reader.start();
  // A second worker group, with its own config, offset and status topics, as MSK Connect gives the new connector.
  const local = new Set(['group.id', 'offset.storage.topic', 'config.storage.topic', 'status.storage.topic', 'listeners', 'plugin.path']);
  replacementWorker = await startConnect({
    bootstrapServers: pipeline.kafka.bootstrapServers, pluginPath: pipeline.connect.workerProperties['plugin.path'].split(','), cwd: pipeline.connect.cwd,
    workerProperties: Object.fromEntries(Object.entries(pipeline.connect.workerProperties).filter(([k]) => !local.has(k))),
  });
}, 900_000);

afterAll(async () => {
  await replacementWorker?.stop();
  await reader?.stop();
  await pipeline?.stop();
  await source?.stop();
  process.stdout.write(`engines: connector replacement figures ${JSON.stringify(figures)}\n`);
}, 180_000);

type Envelope = { op: string; after: { id: number; balance: string } | null; source: { lsn: number; snapshot: string } };
const changes = (records: ReadRecord[]) => records.filter(r => r.value !== null)
  .map(r => JSON.parse(Buffer.from(r.value!, 'base64').toString('utf8')) as Envelope);
const slot = async () => (await source.admin.query<{ active_pid: number | null }>(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'agent_data_slot'`)).rows[0];
const setBalance = (n: number) => source.admin.query('UPDATE public.customers SET balance = $1 WHERE id = 12345', [n]);

test('the replacement waits for the slot through the overlap, then streams every change from where the old connector stopped', async () => {
  const old = pipeline.connectorName;
  const config = pipeline.connectorConfig;
  expect(config['errors.max.retries']).toBe('-1');
  // Debezium's slot retries are left at their defaults: the restarts, not a longer slot wait, carry the replacement through.
  expect(Object.keys(config).filter(k => k.startsWith('slot.'))).toEqual(['slot.name']);
  await reader.waitFor('the old connector\'s snapshot', rs => changes(rs).filter(c => c.op === 'r').length >= 3, 120_000);
  const oldPid = (await slot()).active_pid;
  expect(oldPid).toEqual(expect.any(Number));

  const replacement = `${old}-replacement`;
  const logStart = fs.existsSync(replacementWorker.jvm.logFile) ? fs.statSync(replacementWorker.jvm.logFile).size : 0;
  const markSnapshot = reader.records.length;
  await replacementWorker.rest.create(replacement, config);
  const created = Date.now();
  let n = 0;
  const states = new Set<string>();
  while (Date.now() - created < OVERLAP_MS) {
    await setBalance(++n);
    const s = await replacementWorker.rest.status(replacement);
    for (const t of s?.tasks ?? []) states.add(t.state);
    const failed = s?.tasks.find(t => t.state === 'FAILED');
    if (failed) throw new Error(`the replacement's task FAILED during the overlap: ${failed.trace ?? '(no trace)'}`);
    await new Promise(r => setTimeout(r, 2_000));
  }
  figures['updates during the overlap'] = n;
  expect([...states]).toEqual(['RUNNING']);
  // The old connector kept the slot; the replacement snapshotted (it has no offsets: when_needed) and then restarted on the slot in use.
  expect((await slot()).active_pid).toBe(oldPid);
  const log = fs.readFileSync(replacementWorker.jvm.logFile, 'utf8').slice(logStart);
  expect(log).toMatch(/Snapshot completed/);
  expect(log).toMatch(/ERROR: replication slot "agent_data_slot" is active for PID/);
  expect(log).toMatch(/Retry 1 of unlimited retries will be attempted/);
  figures['replacement restarts during the overlap'] = (log.match(/Retry \d+ of unlimited retries/g) ?? []).length;
  const snapshotOfReplacement = changes(reader.records.slice(markSnapshot)).filter(c => c.op === 'r');
  expect(snapshotOfReplacement.map(c => c.after!.id).sort()).toEqual([12345, 12346, 12347]);

  // CloudFormation's cleanup deletes the old connector; changes committed after it stopped streaming must come from the replacement.
  await pipeline.connect.rest.delete(old);
  const deleted = Date.now();
  const afterOld = [++n, ++n, ++n];
  for (const v of afterOld) await setBalance(v);
  let takeover = 0;
  while (!takeover) {
    const pid = (await slot()).active_pid;
    if (pid !== null && pid !== oldPid) takeover = Date.now() - deleted;
    else if (Date.now() - deleted > 120_000) throw new Error('the replacement did not take the slot within 120 s of the old connector\'s deletion');
    else await new Promise(r => setTimeout(r, 250));
  }
  figures['old connector deleted to slot taken (ms)'] = takeover;
  await setBalance(++n);
  await reader.waitFor(`balance ${n} from the replacement`, rs => changes(rs).some(c => c.op === 'u' && Number(c.after!.balance) === n), 60_000);

  // Every update, once at least, in commit (LSN) order; a change the old connector sent but had not flushed to the slot comes again
  // from the replacement, with the same LSN.
  const updates = changes(reader.records).filter(c => c.op === 'u' && c.after!.id === 12345);
  const first = new Map<number, bigint>();
  for (const c of updates) {
    const balance = Number(c.after!.balance);
    const lsn = postgresVersion(c.source.lsn);
    if (!first.has(balance)) first.set(balance, lsn);
    else expect(lsn).toBe(first.get(balance));
  }
  expect([...first.keys()]).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  const lsns = [...first.values()];
  expect(lsns.every((v, i) => i === 0 || v > lsns[i - 1])).toBe(true);
  figures['records sent twice'] = updates.length - first.size;
  // The replacement's snapshot rows (read during the overlap) are older than the old connector's later updates: the sinks keep the
  // row with the highest LSN, which is the table's current row.
  const newest = changes(reader.records).filter(c => c.after?.id === 12345)
    .reduce((a, c) => (postgresVersion(c.source.lsn) >= postgresVersion(a.source.lsn) ? c : a));
  expect(Number(newest.after!.balance)).toBe(n);
  expect((await replacementWorker.rest.status(replacement))?.tasks.map(t => t.state)).toEqual(['RUNNING']);
});
