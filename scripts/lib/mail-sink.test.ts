import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { decodeMimeWords, headerValue, startMailSink, type SunkMail } from './mail-sink.ts';

const SUBJECT = '[NGHIÊM TRỌNG] Mất kết nối với điểm Phường Tích Sơn, thành phố Vĩnh Yên (thiết bị pi-1) — đã 5 phút không có dữ liệu';

describe('mail sink', () => {
  it('prints a long Vietnamese subject whole, as nodemailer folds and encodes it', async () => {
    const got: SunkMail[] = [];
    const sink = await startMailSink((m) => got.push(m));
    try {
      const transport = createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'ioc@demo.local', to: 'truc.ioc@demo.local', subject: SUBJECT, text: 'x' });
      transport.close();
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const [mail] = got;
      // the raw header is folded over several lines of encoded-words: the case that was cut at the first line
      expect(/^Subject: .*\r?\n[ \t]/m.test(mail?.raw ?? '')).toBe(true);
      expect(mail?.subject).toBe(SUBJECT);
      expect(mail?.to).toEqual(['truc.ioc@demo.local']);
    } finally {
      await sink.stop();
    }
  });

  it('unfolds headers and decodes encoded-words, keeping the spaces next to plain text', () => {
    const raw = 'From: a@b\r\nSubject: =?UTF-8?Q?M=E1=BA=A5t_k?=\r\n =?UTF-8?Q?=E1=BA=BFt_n=E1=BB=91i?= at\r\n\tXã A\r\nTo: c@d\r\n\r\nSubject: body, not a header\r\n';
    expect(headerValue(raw, 'subject')).toBe('=?UTF-8?Q?M=E1=BA=A5t_k?= =?UTF-8?Q?=E1=BA=BFt_n=E1=BB=91i?= at\tXã A');
    expect(decodeMimeWords(headerValue(raw, 'Subject') ?? '')).toBe('Mất kết nối at\tXã A');
    expect(headerValue(raw, 'cc')).toBeUndefined();
    // a character split between two base64 words ("ế" = e1 ba bf)
    expect(decodeMimeWords(`=?utf-8?B?${Buffer.from([0x6b, 0xe1]).toString('base64')}?= =?utf-8?B?${Buffer.from([0xba, 0xbf, 0x74]).toString('base64')}?=`)).toBe('kết');
    expect(decodeMimeWords('Re: =?UTF-8?B?WMOjIEE=?= ok')).toBe('Re: Xã A ok');
    expect(decodeMimeWords('=?ISO-8859-1?Q?caf=E9?=')).toBe('café');
  });
});
