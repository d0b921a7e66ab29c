/**
 * Turns of the event loop for the fetchers' CPU-bound work (parsing, normalizing, preparing documents), one slice per
 * turn. Each turn passes by the event loop's I/O, so an answer from the database to the store queue's transaction
 * (which holds the clustering locks, and which every other writer waits for) is handled after at most one slice.
 * Plain `setImmediate` yields would let every fetcher's queued slice run before it: tens of milliseconds per
 * statement, on the path that bounds how fast new items are stored. Of the slices waiting, the earliest document's
 * goes first: documents are finished one after another rather than all at once, which would keep them all in memory
 * for longer.
 */
export class EventLoopTurns {
  private readonly waiting: Array<{ rank: number; resolve: () => void }> = [];
  private scheduled = false;
  private ranks = 0;

  /** A place in line for one document's slices: its turns come before those of every place taken later. */
  place(): () => Promise<void> {
    const rank = this.ranks++;
    return () => this.next(rank);
  }

  private next(rank: number): Promise<void> {
    return new Promise((resolve) => {
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1]!.rank > rank) at--;
      this.waiting.splice(at, 0, { rank, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.waiting.shift()!.resolve();
      this.schedule(); // the next turn: queued now, so it runs in the next check phase, after that turn's I/O
    });
  }
}
