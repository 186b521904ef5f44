// A bounded double-ended queue over a circular array: live lines go on the back (evicting the
// oldest when full), older history pages go on the front while there is room. The log view
// reads it by index from the virtualizer; nothing here is reactive.
export class LogDeque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.len;
  }

  get(i: number): T | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.head + i) % this.capacity];
  }

  /** Appends, dropping the oldest items beyond capacity; returns how many were dropped. */
  pushBack(items: readonly T[]): number {
    let dropped = 0;
    for (const item of items) {
      if (this.len === this.capacity) {
        this.buf[this.head] = undefined;
        this.head = (this.head + 1) % this.capacity;
        this.len--;
        dropped++;
      }
      this.buf[(this.head + this.len) % this.capacity] = item;
      this.len++;
    }
    return dropped;
  }

  /** Prepends `items` (oldest first) as far as there is room; returns how many fitted. */
  pushFront(items: readonly T[]): number {
    const n = Math.min(items.length, this.capacity - this.len);
    // Keep the newest of the older items: they are the ones adjacent to what is shown.
    for (let k = items.length - 1; k >= items.length - n; k--) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.buf[this.head] = items[k];
      this.len++;
    }
    return n;
  }

  first(): T | undefined {
    return this.get(0);
  }

  last(): T | undefined {
    return this.get(this.len - 1);
  }

  clear(): void {
    this.buf = new Array<T | undefined>(this.capacity);
    this.head = 0;
    this.len = 0;
  }
}
