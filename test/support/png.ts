/**
 * A minimal PNG reader for screenshots in tests: 8-bit RGB or RGBA, not interlaced (what headless
 * Chromium writes). It undoes the five scanline filters of the PNG specification (section 9) and
 * returns the pixels as RGBA, so a test can count the pixels of a colour the page draws.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, row by row. */
  pixels: Uint8Array;
}

export function readPng(file: string): DecodedPng {
  const data = readFileSync(file);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at < data.length) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) throw new Error(`readPng: unsupported PNG (depth ${depth}, colour type ${colour}, interlace ${interlace})`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const current = new Uint8Array(stride);
  const previous = new Uint8Array(stride);
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? current[i - channels] : 0;
      const up = previous[i];
      const upLeft = i >= channels ? previous[i - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      current[i] = (line[i] + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      pixels[o] = current[x * channels];
      pixels[o + 1] = current[x * channels + 1];
      pixels[o + 2] = current[x * channels + 2];
      pixels[o + 3] = channels === 4 ? current[x * channels + 3] : 255;
    }
    previous.set(current);
  }
  return { width, height, pixels };
}

/** Pixels within `tolerance` (per channel) of the colour `#rrggbb`. */
export function countColour(png: DecodedPng, hex: string, tolerance = 6): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let o = 0; o < png.pixels.length; o += 4) {
    if (Math.abs(png.pixels[o] - r) <= tolerance && Math.abs(png.pixels[o + 1] - g) <= tolerance && Math.abs(png.pixels[o + 2] - b) <= tolerance) n++;
  }
  return n;
}
