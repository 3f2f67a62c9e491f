// For tests: an SMTP server on 127.0.0.1 that keeps every mail it is sent.
export { decodeMimeWords, headerValue, startMailSink, type MailSink, type SunkMail } from '../scripts/lib/mail-sink.ts';
