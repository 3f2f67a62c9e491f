import { describe, expect, it } from 'vitest';
import { parseRejection } from './sink.ts';

describe('parseRejection', () => {
  it('reads InfluxDB 1.x 400 answers', () => {
    const msg = 'InfluxDB write failed: A 400 Bad Request error occurred: {"error":"partial write: field type conflict: input field \\"cpu_pct\\" on measurement \\"host\\" is type string, already exists as type float dropped=3"}';
    expect(parseRejection(msg)).toEqual({ reason: 'field_type_conflict', dropped: 3, measurement: 'host' });
    expect(parseRejection('partial write: points beyond retention policy dropped=1').reason).toBe('beyond_retention');
    expect(parseRejection('partial write: max-values-per-tag limit exceeded (100000/100000)').reason).toBe('max_values_per_tag');
    expect(parseRejection('unable to parse line').reason).toBe('parse_error');
    expect(parseRejection('something').reason).toBe('other');
  });
});
