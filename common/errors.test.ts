import { describe, expect, it } from 'vitest';
import { CodedError, errorCode, errorMessage } from './errors.ts';

type DemoCode = 'E_ONE' | 'E_TWO';
class DemoError extends CodedError<DemoCode> {}

describe('CodedError', () => {
  it('carries its code, its cause and the name of its class', () => {
    const cause = new Error('disk full');
    const err = new DemoError('E_TWO', 'cannot write', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(CodedError);
    expect(err.code).toBe('E_TWO');
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('DemoError');
    expect(err.message).toBe('cannot write');
  });
});

describe('errorCode / errorMessage', () => {
  it('reads the code of ours, of Node system errors and numeric MQTT codes', () => {
    expect(errorCode(new DemoError('E_ONE', 'x'))).toBe('E_ONE');
    expect(errorCode(Object.assign(new Error('nope'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errorCode({ code: 5 })).toBe('5');
    expect(errorCode(new Error('plain'))).toBeUndefined();
    expect(errorCode('text')).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
  });

  it('gives the message of an Error and the text of anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
