import { describe, expect, it } from 'vitest';
import {
  commandTopic, logTopic, makeCommandId, parseCommandTopic, parseReplyTopic, prefixOfTopic,
  replyErrTopic, replyOutTopic, statusTopic, WATCHDOG_ID,
} from './topics';

describe('command topics', () => {
  it('keeps the leading slash of an absolute path, giving the original double slash', () => {
    expect(commandTopic('esp32/test', 'put', 'Ab3x_9Qz', '/lib/foo.py')).toBe('esp32/test/mqb/cmd/put/Ab3x_9Qz//lib/foo.py');
  });

  it('ends with a slash when there is no tail, like the watchdog feed', () => {
    expect(commandTopic('esp32/test', 'eval', WATCHDOG_ID)).toBe('esp32/test/mqb/cmd/eval/0F00D/');
  });

  it('splits what follows cmd/ at the first two slashes only', () => {
    expect(parseCommandTopic('esp32/test', 'esp32/test/mqb/cmd/put/Ab3x_9Qz//lib/foo.py')).toEqual({
      cmd: 'put', id: 'Ab3x_9Qz', tail: '/lib/foo.py',
    });
    expect(parseCommandTopic('p', 'p/mqb/cmd/ota/ID/' + 'a'.repeat(64))).toEqual({ cmd: 'ota', id: 'ID', tail: 'a'.repeat(64) });
  });

  it('accepts the original CLI form without a trailing slash', () => {
    expect(parseCommandTopic('p', 'p/mqb/cmd/eval/abcdefgh')).toEqual({ cmd: 'eval', id: 'abcdefgh', tail: '' });
  });

  it('round-trips every command with and without a tail', () => {
    for (const [cmd, tail] of [['eval', ''], ['get', '/a/b.txt'], ['ls', 'rel/dir'], ['mv', '/x']] as const) {
      const t = commandTopic('site/a/b', cmd, 'ID123456', tail);
      expect(parseCommandTopic('site/a/b', t)).toEqual({ cmd, id: 'ID123456', tail });
    }
  });

  it('rejects topics of another prefix or without an id', () => {
    expect(parseCommandTopic('p', 'q/mqb/cmd/eval/x/')).toBeUndefined();
    expect(parseCommandTopic('p', 'p/mqb/cmd/eval')).toBeUndefined();
    expect(parseCommandTopic('p', 'p/mqb/cmd//x/')).toBeUndefined();
    expect(parseCommandTopic('p', 'p/mqb/cmd/eval//')).toBeUndefined();
  });
});

describe('reply, status and log topics', () => {
  it('names replies by command id and recovers prefix, kind and id', () => {
    expect(replyOutTopic('a/b', 'X1')).toBe('a/b/mqb/reply/out/X1');
    expect(replyErrTopic('a/b', 'X1')).toBe('a/b/mqb/reply/err/X1');
    expect(parseReplyTopic('a/b/mqb/reply/err/X1')).toEqual({ prefix: 'a/b', kind: 'err', id: 'X1' });
    expect(parseReplyTopic('a/b/mqb/reply/out/')).toBeUndefined();
  });

  it('finds the device prefix from its status, command and log topics', () => {
    expect(prefixOfTopic(statusTopic('weather/hilltop'))).toBe('weather/hilltop');
    expect(prefixOfTopic('weather/hilltop/mqb/cmd/eval/0F00D/')).toBe('weather/hilltop');
    expect(prefixOfTopic(logTopic('esp32/test'))).toBe('esp32/test');
    expect(prefixOfTopic('unrelated/topic')).toBeUndefined();
  });
});

describe('command ids', () => {
  it('are 8 URL-safe base64 characters like the original CLI', () => {
    let n = 0;
    const id = makeCommandId((k) => new Uint8Array(k).map(() => (n += 37) & 0xff));
    expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });
});
