/** Reads a spawned process's stdout until `marker` appears; returns what it printed. Throws if it exits first. */
export async function outputUntil(proc: { stdout: ReadableStream<Uint8Array>; stderr?: unknown }, marker: string): Promise<string> {
  const reader = proc.stdout.getReader();
  const dec = new TextDecoder();
  let out = "";
  while (!out.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) {
      const err = proc.stderr instanceof ReadableStream ? await new Response(proc.stderr).text() : "";
      throw new Error(`process exited before printing '${marker}': ${out}${err}`);
    }
    out += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return out;
}
