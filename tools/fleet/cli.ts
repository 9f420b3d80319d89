/**
 * `npm run fleet -- <command>`: the production-line tool for device identities.
 * A thin driver: parsing options, printing, prompting and exit codes live here; the rules,
 * codecs and writers live in ./core and ./io.
 *
 * Exit codes: 0 ok (warnings allowed), 1 the input or code was rejected, 2 usage or I/O error.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { headerKey, printable } from './core/columns.ts';
import type { Device } from './core/device.ts';
import { chooseMatch, planCsv, planReprovision, type MatchBy, type ReprovisionPlan } from './core/reprovision.ts';
import { RULES, type RuleId } from './core/rules.ts';
import {
  boardInspector, LOG_HEADER, logLine, maskToken, runTokenBatch, TokenError, usedTokens, writeTokenChecked,
  type BatchIO, type BoardInspector, type LogRecord, type StorageWriter, type TokenEntry,
} from './core/token-batch.ts';
import { parseScannedCode, type ScanResult } from './core/tr005.ts';
import { buildDevice, type ValidationReport } from './core/validator.ts';
import { abortAllStaged, OutputFolderError } from './io/output-dir.ts';
import { formatIssue, generate, validateFile, type FileValidateOptions, type ImageFormat } from './io/pipeline.ts';
import { FleetInputError, openCsv } from './io/read-csv.ts';
import type { PaperId } from './core/labels.ts';
import { TOKEN_FILE } from '../../shared/names.ts';

class UsageError extends Error {}

const EXIT_REJECTED = 1;
const EXIT_USAGE = 2;

function list<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const i of items) if (!allowed.includes(i as T)) throw new InvalidArgumentError(`${what} "${i}" is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

interface CommonOpts {
  strict?: boolean;
  profileId?: string;
  orgId?: string;
  qrSerial?: boolean;
  frequencyPlan?: string;
  lorawanVersion?: string;
  phyVersion?: string;
  allowUnknownPlan?: boolean;
  maxErrors: number;
  progress?: boolean;
  json?: boolean;
  labelQr?: 'tr005' | 'token';
}

function addValidationOptions(cmd: Command): Command {
  return cmd
    .option('--strict', 'treat warnings as errors')
    .option('--profile-id <hex8>', 'TR005 ProfileID for rows without a Profile ID column (Blynk: the value in its TTS integration); default 00000000')
    .option('--org-id <n>', 'Blynk organization id for the static-token QR (<token>+<orgId>) when the file has no Org ID column')
    .option('--no-qr-serial', 'do not put the serial into the TR005 S field')
    .option('--frequency-plan <id>', 'TTS frequency plan, e.g. EU_863_870_TTN')
    .option('--lorawan-version <v>', 'LoRaWAN MAC version, e.g. MAC_V1_0_3 or 1.0.3')
    .option('--phy-version <v>', 'regional-parameters version, e.g. RP001_V1_0_3_REV_A or RP002_V1_0_3')
    .option('--allow-unknown-plan', 'accept a frequency plan id that is not in the built-in list')
    .option('--max-errors <n>', 'how many messages to print', positiveInt, 50)
    .option('--progress', 'show progress even when stderr is not a terminal')
    .option('--no-progress', 'never show progress');
}

function fileOptions(o: CommonOpts): FileValidateOptions {
  return {
    strict: o.strict,
    profileId: o.profileId,
    orgId: o.orgId,
    qrSerial: o.qrSerial,
    labelQr: o.labelQr,
    maxIssues: Math.max(o.maxErrors, 500),
    progress: o.progress ?? !!process.stderr.isTTY,
    tts: {
      frequencyPlan: o.frequencyPlan,
      macVersion: o.lorawanVersion,
      phyVersion: o.phyVersion,
      allowUnknownPlan: o.allowUnknownPlan,
    },
  };
}

/** Messages to stderr, most severe first within the print limit; one summary line. */
function printReport(file: string, report: ValidationReport, maxErrors: number): void {
  const name = basename(file);
  const order = { error: 0, warning: 1, info: 2 } as const;
  const sorted = [...report.issues].sort((a, b) => order[a.severity] - order[b.severity] || (a.line ?? 0) - (b.line ?? 0));
  for (const i of sorted.slice(0, maxErrors)) process.stderr.write(`${formatIssue(name, i)}\n`);
  const hidden = report.errors + report.warnings + report.infos - Math.min(maxErrors, sorted.length);
  if (hidden > 0) process.stderr.write(`… ${hidden} more message(s) not shown (--max-errors)\n`);
  const verdict = report.ok ? 'OK' : 'REJECTED, nothing written';
  process.stderr.write(`${name}: ${report.rows} device row(s), ${report.errors} error(s), ${report.warnings} warning(s) — ${verdict}\n`);
}

async function cmdValidate(file: string, o: CommonOpts): Promise<number> {
  const v = await validateFile(file, fileOptions(o));
  if (o.json) process.stdout.write(JSON.stringify(v.report, null, 2) + '\n');
  printReport(file, v.report, o.maxErrors);
  return v.report.ok ? 0 : EXIT_REJECTED;
}

interface GenerateCliOpts extends CommonOpts {
  out: string;
  force?: boolean;
  checksum?: boolean;
  images: ImageFormat[] | false;
  labels: PaperId[] | false;
  pdf?: boolean;
}

async function cmdGenerate(file: string, o: GenerateCliOpts): Promise<number> {
  if (!o.out) throw new UsageError('generate needs --out <folder>');
  const res = await generate(file, {
    ...fileOptions(o),
    out: o.out,
    force: o.force,
    checksum: o.checksum,
    images: o.images === false ? [] : o.images,
    labels: o.labels === false ? [] : o.labels,
    pdf: o.pdf,
  });
  if (o.json) process.stdout.write(JSON.stringify({ ok: res.ok, rows: res.rows, files: res.files, images: res.images, report: res.report }, null, 2) + '\n');
  printReport(file, res.report, o.maxErrors);
  if (!res.ok) return EXIT_REJECTED;
  if (res.report.kind === 'lorawan' && !o.profileId && !res.report.header.some((h) => headerKey(h) === 'profileid')) {
    process.stderr.write('note: no --profile-id given, so the QR codes carry ProfileID 00000000; Blynk expects the Profile ID set in its TTS integration\n');
  }
  process.stderr.write(`wrote ${o.out}: ${res.files.join(', ')}${res.images ? `, ${res.images} QR image(s)` : ''}\n`);
  return 0;
}

function describeScan(r: ScanResult): string {
  const lines = [`${r.accepted ? 'ACCEPTED' : 'REJECTED'}: ${r.formatName}`];
  const t = r.tr005;
  if (t && r.format === 'tr005') {
    if (t.joinEui) lines.push(`  JoinEUI    ${t.joinEui}`);
    if (t.devEui) lines.push(`  DevEUI     ${t.devEui}`);
    if (t.profileId) lines.push(`  ProfileID  ${t.profileId} (VendorID ${t.vendorId}, VendorProfileID ${t.vendorProfileId})`);
    if (t.ownerToken !== undefined) lines.push(`  OwnerToken ${printable(t.ownerToken, 80)}`);
    if (t.serial !== undefined) lines.push(`  SerNum     ${printable(t.serial, 80)}`);
    for (const p of t.proprietary) lines.push(`  Proprietary ${printable(p, 80)}`);
    if (t.checksum) lines.push(`  CheckSum   ${printable(t.checksum.value, 20)} (${t.checksum.valid ? 'valid' : `expected ${t.checksum.expected}`})`);
  }
  if (r.blynk) lines.push(`  token      ${maskToken(r.blynk.token)}${r.blynk.orgId ? `\n  orgId      ${r.blynk.orgId}` : ''}`);
  for (const i of r.issues) lines.push(`  ${i.severity} [${i.code}]: ${printable(i.message, 300)}`);
  if (r.canonical && r.canonical !== r.text) lines.push(`  ${r.accepted ? 'canonical' : 'LW:D0 form'}: ${r.canonical}`);
  return lines.join('\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > 1024 * 1024) throw new UsageError('stdin is over 1 MiB; pass codes one per line');
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function cmdParse(codes: string[], o: { json?: boolean; lenientChecksum?: boolean }): Promise<number> {
  let inputs = codes;
  if (inputs.length === 0) {
    if (process.stdin.isTTY) throw new UsageError('give a code as an argument, or pipe codes in, one per line');
    inputs = (await readStdin()).split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  }
  const results = inputs.map((c) => parseScannedCode(c, { checksum: o.lenientChecksum ? 'warn' : 'verify' }));
  if (o.json) process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  else process.stdout.write(results.map(describeScan).join('\n\n') + '\n');
  return results.every((r) => r.accepted) ? 0 : EXIT_REJECTED;
}

/** Validates a file (must pass) and loads its devices: for the small inputs of reprovision/token. */
async function loadDevices(file: string, o: FileValidateOptions, maxErrors: number): Promise<{ devices: Device[]; has: (f: keyof Device) => boolean } | undefined> {
  const v = await validateFile(file, o);
  if (!v.report.ok || !v.map) {
    printReport(file, v.report, maxErrors);
    return undefined;
  }
  const map = v.map;
  const devices: Device[] = [];
  const csv = await openCsv(file);
  for await (const row of csv.rows()) devices.push(buildDevice(row.cells, map, row.line, o).device);
  return { devices, has: (f) => (map.index as Record<string, number | undefined>)[f] !== undefined };
}

function maskKey(v: string): string {
  return v.length === 32 ? `${v.slice(0, 4)}…${v.slice(-4)}` : v;
}

function printPlan(plan: ReprovisionPlan): void {
  const out = process.stdout;
  out.write(`matched by ${plan.matchBy}: ${plan.updates.length} device(s) to update, ${plan.unchanged} unchanged, ${plan.added.length} new, ${plan.removed.length} gone\n`);
  for (const u of plan.updates) {
    out.write(`\n${u.key} (old line ${u.oldLine}, new line ${u.newLine}) — TTS: ${u.tts === 'create-new' ? 'create the new device, then delete the old one' : 'delete the old device, then create it again'}\n`);
    for (const c of u.changes) {
      const show = c.metafield === 'Application Key' ? maskKey : (v: string) => v;
      out.write(`  set "${c.metafield}": ${show(c.from) || '(empty)'} -> ${show(c.to)}\n`);
    }
  }
  if (plan.added.length) out.write(`\nnew devices (not in the old file): ${plan.added.join(', ')}\n`);
  if (plan.removed.length) out.write(`\ngone (not in the new file): ${plan.removed.join(', ')}\n`);
  for (const c of plan.collisions) process.stderr.write(`${c.severity} [${c.kind}]: ${c.message}\n`);
}

async function cmdReprovision(o: { old: string; new: string; match?: string; csv?: string; json?: boolean; maxErrors: number }): Promise<number> {
  const opts: FileValidateOptions = { maxIssues: 500 };
  const olds = await loadDevices(o.old, opts, o.maxErrors);
  const news = await loadDevices(o.new, opts, o.maxErrors);
  if (!olds || !news) return EXIT_REJECTED;
  const fieldOf: Record<MatchBy, keyof Device> = { serial: 'serial', name: 'name', deviceId: 'deviceId', devEui: 'devEui' };
  const matchBy: MatchBy = o.match
    ? ({ 'serial': 'serial', 'name': 'name', 'device-id': 'deviceId', 'dev-eui': 'devEui' } as Record<string, MatchBy>)[o.match]
    : chooseMatch((f) => olds.has(fieldOf[f]), (f) => news.has(fieldOf[f]));
  const plan = planReprovision(olds.devices, news.devices, matchBy);
  if (o.json) process.stdout.write(JSON.stringify(plan, null, 2) + '\n');
  else printPlan(plan);
  if (matchBy === 'devEui' && plan.added.length && plan.removed.length) {
    // A swapped radio module has a new DevEUI, so paired by DevEUI it looks like one device gone and another new.
    process.stderr.write(`hint: rows were paired by DevEUI, so a device whose DevEUI changed shows as ${plan.added.length} new and ${plan.removed.length} gone instead of as metafield edits; `
      + 'add a column that stays with the device (Serial Number, Device Name or TheThingsStack Device ID) to both files, or pass --match serial|name|device-id\n');
  }
  if (o.csv) {
    if (!plan.ok) process.stderr.write(`not writing ${o.csv}: resolve the collisions first\n`);
    else await fsp.writeFile(o.csv, planCsv(plan));
  }
  return plan.ok ? 0 : EXIT_REJECTED;
}

async function loadBoardLib(): Promise<{ writer: StorageWriter; inspect: BoardInspector }> {
  try {
    const lib = await import('../lib/espruino.ts');
    return { writer: lib.writeStorageFiles, inspect: boardInspector(lib.evaluate) };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new UsageError('the board library tools/lib/espruino.ts is not installed in this checkout');
    throw e;
  }
}

async function readLog(path: string): Promise<LogRecord[]> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const rows = parseCsvSync(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  return rows.map((r, i) => {
    if (!r.token || (r.status !== 'written' && r.status !== 'failed')) throw new UsageError(`${path} line ${i + 2} is not a token log record; is --log pointing at the right file?`);
    return { time: r.time, line: Number(r.line), serial: r.serial, name: r.name, token: r.token, port: r.port, board: r.board ?? '', status: r.status, detail: r.detail };
  });
}

async function appendDurably(path: string, text: string): Promise<void> {
  const fh = await fsp.open(path, 'a');
  try {
    await fh.write(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface TokenCliOpts {
  port?: string;
  baud?: number;
  token?: string;
  csv?: string;
  log?: string;
  yes?: boolean;
  count?: number;
  dryRun?: boolean;
  retryFailed?: boolean;
  overwrite?: boolean;
  maxErrors: number;
}

async function cmdToken(o: TokenCliOpts): Promise<number> {
  if (!o.port) throw new UsageError('token needs --port, e.g. --port /dev/ttyUSB0');
  if (!!o.token === !!o.csv) throw new UsageError('give either --token <token> (one board) or --csv <tokens.csv> (a batch)');
  const target = { port: o.port, ...(o.baud ? { baud: o.baud } : {}) };
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const { writer, inspect } = await loadBoardLib();

  if (o.token) {
    const token = o.token === '-' ? (await readStdin()).trim() : o.token.trim();
    let res;
    try {
      res = await writeTokenChecked({ target, token, writer, inspect, overwrite: o.overwrite, dryRun: o.dryRun, log: say });
    } catch (e) {
      if (!(e instanceof TokenError) || !e.hint) throw e;
      say(`fleet: ${e.message}\n  hint: ${e.hint}`);
      return EXIT_REJECTED;
    }
    if (!res.written) say(`the board on ${o.port} already holds token ${maskToken(token)}; nothing to do`);
    else if (o.dryRun) process.stdout.write(res.steps.join('\n') + '\n');
    else say(`wrote token ${maskToken(token)} to the board on ${o.port}${o.overwrite ? ' (its stored configuration erased)' : ''}`);
    return 0;
  }

  const csv = o.csv!;
  const loaded = await loadDevices(csv, { maxIssues: 500 }, o.maxErrors);
  if (!loaded) return EXIT_REJECTED;
  if (!loaded.has('authToken')) throw new UsageError(`${csv} has no Auth Token column (the 32-character device token); a "Token"/"QR Token" column is the claim token, which does not go into the board`);
  const entries: TokenEntry[] = loaded.devices.filter((d) => d.authToken).map((d) => ({ line: d.line, token: d.authToken, serial: d.serial, name: d.name }));
  const logPath = o.log ?? join(dirname(csv), `${basename(csv).replace(/\.csv$/i, '')}.log.csv`);
  const previous = await readLog(logPath);
  const known = new Set(entries.map((e) => e.token));
  const strangers = previous.filter((r) => !known.has(r.token)).length;
  if (strangers) say(`warning: ${strangers} record(s) in ${logPath} are for tokens not in ${csv}; is this the right log?`);
  const used = usedTokens(previous, o.retryFailed);
  if (entries.length > 0 && entries.every((e) => used.has(e.token))) {
    const failed = entries.filter((e) => used.get(e.token) === 'failed').length;
    say(`fleet: all ${entries.length} tokens in ${csv} are already assigned (see ${logPath})${failed ? `; ${failed} of them failed to write: --retry-failed hands those out again if their boards were set aside` : ''}`);
    return EXIT_REJECTED;
  }

  const interactive = !o.yes && !o.dryRun;
  if (interactive && !process.stdin.isTTY) throw new UsageError('batch mode prompts between boards; without a terminal pass --yes (writes one board per run, or --count n)');
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stderr }) : undefined;
  const io: BatchIO = {
    writer,
    inspect,
    say,
    now: () => new Date(),
    async nextBoard(entry, done, remaining) {
      if (!rl) return 'write';
      const answer = await rl.question(`Connect the next board${entry.serial ? ` (label: serial ${entry.serial})` : ''} and press Enter — ${remaining} token(s) left, ${done} done this run; q to stop: `);
      return answer.trim().toLowerCase().startsWith('q') ? 'quit' : 'write';
    },
    async onRefused() {
      if (!rl) return 'quit';
      return 'again';
    },
    async onFailure() {
      if (!rl) return 'quit';
      const answer = await rl.question('Retry this board [r], set it aside and go on with the next [n], or stop [q]? ');
      const a = answer.trim().toLowerCase();
      return a.startsWith('n') ? 'next' : a.startsWith('q') ? 'quit' : 'retry';
    },
    async record(r) {
      let exists = true;
      await fsp.access(logPath).catch(() => { exists = false; });
      await appendDurably(logPath, (exists ? '' : LOG_HEADER) + logLine(r));
    },
  };
  try {
    const count = o.count ?? (interactive ? undefined : 1);
    const summary = await runTokenBatch(entries, previous, { target, count, dryRun: o.dryRun, retryFailed: o.retryFailed, overwrite: o.overwrite }, io);
    if (o.dryRun) process.stdout.write(summary.steps.join('\n') + '\n');
    say(`${summary.written} written, ${summary.failed} failed, ${summary.remaining} token(s) left${o.dryRun ? ' (dry run: nothing written, nothing logged)' : `; log: ${logPath}`}`);
    const stoppedBad = summary.stoppedBy === 'failure' || summary.stoppedBy === 'refused';
    return stoppedBad || (summary.failed > 0 && !interactive) ? EXIT_REJECTED : 0;
  } finally {
    rl?.close();
  }
}

function cmdRules(o: { markdown?: boolean }): number {
  const ids = Object.keys(RULES) as RuleId[];
  if (o.markdown) {
    process.stdout.write('| rule | severity | meaning |\n|---|---|---|\n');
    for (const id of ids) process.stdout.write(`| \`${id}\` | ${RULES[id].severity} | ${RULES[id].meaning} |\n`);
  } else {
    for (const id of ids) process.stdout.write(`${id.padEnd(24)} ${RULES[id].severity.padEnd(8)} ${RULES[id].meaning}\n`);
  }
  return 0;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('fleet')
    .description('Factory onboarding for LoRaWAN (TR005 QR, The Things Stack) and Blynk static-token devices')
    .showHelpAfterError()
    .exitOverride();
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<number> | number) => async (...args: A) => setExit(await fn(...args));

  addValidationOptions(program.command('validate <csv>').description('check every row; prints errors with line and column; writes nothing'))
    .option('--json', 'print the full report as JSON on stdout')
    .action(run(cmdValidate));

  addValidationOptions(program.command('generate <csv>').description('validate, then write QR codes, label sheets, Blynk and TTS import files into --out'))
    .requiredOption('-o, --out <folder>', 'output folder (must not exist unless --force)')
    .option('--force', 'replace an earlier output folder of this tool (one with its manifest.json)')
    .option('--checksum', 'append the TR005 CheckSum field (:C + CRC-16/MODBUS)')
    .option('--images <formats>', 'QR image formats: svg,png', list(['svg', 'png'] as const, 'image format'), ['svg', 'png'])
    .option('--no-images', 'no QR image files')
    .option('--labels <papers>', 'label sheets: a4,letter', list(['a4', 'letter'] as const, 'paper'), ['a4', 'letter'])
    .option('--no-labels', 'no label sheets')
    .option('--no-pdf', 'label sheets as HTML only')
    .addOption(new Option('--label-qr <which>', 'QR printed on labels').choices(['tr005', 'token']))
    .option('--json', 'print the result as JSON on stdout')
    .action(run(cmdGenerate));

  program.command('parse [codes...]').description('check scanned codes the way the Blynk app reads them (stdin: one per line)')
    .option('--json', 'JSON output')
    .option('--lenient-checksum', 'accept a wrong CheckSum with a warning, as TTS does')
    .action(run(cmdParse));

  program.command('reprovision').description('compare an old and a new batch: metafields to edit in Blynk, and TTS collisions')
    .requiredOption('--old <csv>', 'the batch as provisioned')
    .requiredOption('--new <csv>', 'the batch after the hardware change')
    .addOption(new Option('--match <key>', 'how rows are paired (default: serial, else name, else device id, else DevEUI)').choices(['serial', 'name', 'device-id', 'dev-eui']))
    .option('--csv <file>', 'also write the edits as CSV')
    .option('--json', 'JSON output')
    .option('--max-errors <n>', 'how many validation messages to print', positiveInt, 50)
    .action(run(cmdReprovision));

  program.command('token').description(`write a Blynk auth token into a board's Storage (${TOKEN_FILE}), one board or a batch from a CSV`)
    .option('-p, --port <port>', 'serial port of the board, e.g. /dev/ttyUSB0')
    .option('-b, --baud <n>', 'baud rate', positiveInt)
    .option('--token <token>', 'the 32-character auth token ("-" reads it from stdin)')
    .option('--csv <tokens.csv>', 'batch: a CSV with an Auth Token column')
    .option('--log <file>', 'batch log CSV (default: <tokens>.log.csv next to the CSV)')
    .option('-y, --yes', 'do not prompt; write the next unused token (or --count n) and exit')
    .option('--count <n>', 'boards to do in this run', positiveInt)
    .option('--dry-run', 'print the exact steps; touch no board and no log')
    .option('--retry-failed', 'hand out again tokens whose write failed earlier (only if that board was set aside)')
    .option('--overwrite', 'write even if the board already holds a token or a stored configuration; erases that configuration so the new token is used')
    .option('--max-errors <n>', 'how many validation messages to print', positiveInt, 50)
    .action(run(cmdToken));

  program.command('rules').description('list every validation rule and what it means')
    .option('--markdown', 'as a Markdown table')
    .action(run(cmdRules));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code?.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof OutputFolderError) {
      process.stderr.write(`fleet: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof FleetInputError) {
      process.stderr.write(`fleet: ${err.message}\n`);
      return EXIT_REJECTED;
    }
    const hint = (err as { hint?: string }).hint;
    process.stderr.write(`fleet: ${err.message}${hint ? `\n  hint: ${hint}` : ''}\n`);
    return EXIT_USAGE;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]));
if (invokedDirectly) {
  const stop = () => {
    abortAllStaged();
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
