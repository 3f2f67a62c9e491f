// A local SMTP server that keeps nothing: it hands each received message (recipients, subject) to a callback.
// The demo prints them; tests of the notification flows use the same sink.
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  from: string;
  to: string[];
  subject: string;
  raw: string;
}

export interface MailSink {
  port: number;
  stop(): Promise<void>;
}

/** Listens on `port` (0: a free one, the default; a fixed one where a sender already points at it). */
export async function startMailSink(onMail: (m: SunkMail) => void, host = '127.0.0.1', port = 0): Promise<MailSink> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const subjectLine = headerValue(raw, 'subject') ?? '';
        onMail({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeMimeWords(subjectLine),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.server.address();
  return {
    port: addr !== null && typeof addr === 'object' ? addr.port : port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The value of a header, unfolded (RFC 5322 §2.2.3: a line break followed by a space or tab continues the header;
 * mailers fold long subjects, nodemailer at 76 characters), or undefined when the message has no such header.
 */
export function headerValue(raw: string, name: string): string | undefined {
  const end = raw.search(/\r?\n\r?\n/);
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const wanted = name.toLowerCase();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bqBQ])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toLowerCase() === 'b') return Buffer.from(text, 'base64');
  return Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_m: string, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

function decodeBytes(charset: string, bytes: Buffer): string {
  try {
    return new TextDecoder(charset.replace(/\*.*$/, '')).decode(bytes); // RFC 2231 language suffix: utf-8*vi
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * RFC 2047 encoded-words (=?UTF-8?B?…?=, =?UTF-8?Q?…?=) as mail clients write Vietnamese subjects. White space
 * between two encoded-words is not part of the text, and adjacent words of one charset are joined as bytes first
 * (a multi-byte character may be split between them); white space next to plain text is kept.
 */
export function decodeMimeWords(s: string): string {
  let out = '';
  let last = 0;
  let run: { charset: string; bytes: Buffer[] } | undefined;
  const flush = (): void => {
    if (run !== undefined) out += decodeBytes(run.charset, Buffer.concat(run.bytes));
    run = undefined;
  };
  for (const m of s.matchAll(ENCODED_WORD)) {
    const [word, charset = 'utf-8', encoding = 'q', text = ''] = m;
    const between = s.slice(last, m.index);
    if (run !== undefined && /^[ \t]*$/.test(between) && run.charset.toLowerCase() === charset.toLowerCase()) {
      run.bytes.push(wordBytes(encoding, text));
    } else {
      flush();
      if (!(last > 0 && /^[ \t]+$/.test(between))) out += between; // last > 0: an encoded-word came just before
      run = { charset, bytes: [wordBytes(encoding, text)] };
    }
    last = m.index + word.length;
  }
  flush();
  return out + s.slice(last);
}
