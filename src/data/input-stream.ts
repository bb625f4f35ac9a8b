import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

/** Read size for files: large enough that per-chunk overhead vanishes, small enough to stay lean. */
const READ_CHUNK_BYTES = 1 << 20;

/** A source of input bytes: a path, or `-` for stdin (or the stream given for it). */
export interface InputSource {
  input: string;
  stdin?: NodeJS.ReadableStream;
  /** The bytes of `input`, already opened by the caller (a library caller or a test); the path only names it. */
  stream?: NodeJS.ReadableStream;
}

/** Name used in messages: the path as given, or `stdin`. */
export function sourceName(input: string): string {
  return input === '-' ? 'stdin' : input;
}

/** Turn a file-system error into an InputError naming the file. */
export function fileError(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((error as Error)?.message ?? error);
  return new InputError(`cannot read ${path}: ${why}`, 'Check the `input` path');
}

/** Throw an InputError unless `path` is a readable regular file. */
export async function assertReadableFile(path: string): Promise<void> {
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    await fs.access(path);
  } catch (error) {
    throw fileError(path, error);
  }
}

/**
 * The raw bytes of a source as chunks, gunzipped on the fly when they start with the gzip magic
 * bytes (1f 8b), whatever the file name; so `.csv.gz`, `.ndjson.gz` and gzipped stdin all work.
 * @throws InputError when the file cannot be read or the gzip data is corrupt.
 */
export async function* openInputChunks(source: InputSource): AsyncGenerator<Buffer> {
  const name = sourceName(source.input);
  let raw: AsyncIterable<Buffer>;
  if (source.stream !== undefined) {
    raw = source.stream as AsyncIterable<Buffer>;
  } else if (source.input === '-') {
    raw = (source.stdin ?? process.stdin) as AsyncIterable<Buffer>;
  } else {
    await assertReadableFile(source.input);
    raw = createReadStream(source.input, { highWaterMark: READ_CHUNK_BYTES });
  }
  const it = raw[Symbol.asyncIterator]();
  try {
    let first: IteratorResult<Buffer>;
    try {
      first = await nextChunk(it);
      // Need two bytes to recognise gzip; stdin may deliver a single byte first.
      while (!first.done && first.value.length < 2) {
        const more = await nextChunk(it);
        if (more.done) break;
        first = { done: false, value: Buffer.concat([first.value, more.value]) };
      }
    } catch (error) {
      throw source.input === '-' ? new InputError(`cannot read stdin: ${(error as Error).message}`) : fileError(name, error);
    }
    if (first.done) return;
    const head = first.value;
    async function* rest(): AsyncGenerator<Buffer> {
      yield head;
      for (;;) {
        const r = await nextChunk(it);
        if (r.done) return;
        yield r.value;
      }
    }
    if (head[0] === 0x1f && head[1] === 0x8b) {
      const gunzip = createGunzip({ chunkSize: 1 << 18 });
      const compressed = Readable.from(rest());
      compressed.on('error', (e) => gunzip.destroy(e));
      compressed.pipe(gunzip);
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
          throw new InputError(`${name}: gzip data is corrupt or truncated (${(error as Error).message})`, 'Check the file, e.g. with gzip -t');
        }
        throw error;
      } finally {
        compressed.destroy();
      }
    } else {
      yield* rest();
    }
  } finally {
    // Close the file (or detach from stdin) however the reader stopped: done, error or early exit.
    await it.return?.();
  }
}

async function nextChunk(it: AsyncIterator<Buffer | string>): Promise<IteratorResult<Buffer>> {
  const r = await it.next();
  if (r.done) return r as IteratorResult<Buffer>;
  return { done: false, value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value };
}

/** All bytes of a source (Arrow needs the whole buffer), gunzipped when compressed. */
export async function readAllBytes(source: InputSource): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of openInputChunks(source)) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
