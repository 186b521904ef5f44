import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('drops user name and password, keeping scheme, host and port', () => {
    expect(redactUrl('mqtts://ops:s3cret@broker.example:8883')).toBe('mqtts://broker.example:8883');
  });

  it('leaves a URL without credentials as it was, minus a trailing slash', () => {
    expect(redactUrl('mqtt://127.0.0.1:1883/')).toBe('mqtt://127.0.0.1:1883');
  });

  it('still drops credentials from something that does not parse as a URL', () => {
    expect(redactUrl('mqtt://ops:s3cret@bad host')).toBe('mqtt://bad host');
  });
});
