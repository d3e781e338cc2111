import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kansui.js', import.meta.url));

/** Run the real `kansui` command (bin/kansui.js) in a child process against `dataDir`. */
export async function runKansuiCli(
  args: string[],
  dataDir: string,
  input?: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env } });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
  return { stdout, stderr, code };
}

/** `kansui sensor add …` → the parsed JSON it prints (throws on failure). */
export async function addSensorViaCli(dataDir: string, args: string[]): Promise<{ id: string; mqtt: { username: string; password: string } }> {
  const r = await runKansuiCli(['sensor', 'add', ...args], dataDir);
  if (r.code !== 0) throw new Error(`kansui sensor add failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
