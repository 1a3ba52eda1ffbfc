/** Placeholder until the Anthropic translator lands; replaced by a real measurement. */
export async function benchAnthropicStream(): Promise<number> {
  return NaN;
}
