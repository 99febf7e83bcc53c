package dev.featurebeam.pipelines.online;

import dev.featurebeam.io.online.RedisStateStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online writer's guarded writes, sent by a thread of their own in pipelined batches of what
 * is waiting, so that the step's thread never waits for a Redis round trip and a busy second costs
 * a few round trips, not one a write. Jedis pipelines but does not queue or retry, and Beam's
 * RedisIO has no guarded write; hence this small queue.
 *
 * <p>A later write of a key joins its waiting one: a whole write replaces it (the writer's state of
 * an entity only grows, so the later includes the earlier), a delta is merged onto it ({@link
 * RedisStateStore.Write#then}). A delta Redis answers {@link RedisStateStore.Outcome#STALE} (its
 * base is not what Redis holds) is kept aside for {@link #takeStale}: the step, which has the
 * state, sends it whole. A batch Redis does not take is sent again every {@code
 * retryDelay}, in order, until it is taken: nothing is dropped. {@link #drain} waits until every
 * submitted write is in Redis; the step calls it at the end of each bundle, which a runner
 * completes before it commits or checkpoints the bundle's state, so that no checkpoint holds a
 * state as written that Redis does not hold.
 */
final class StoreWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreWriter.class);
  /** The most writes one round trip carries. */
  static final int BATCH = 512;

  private final RedisStateStore store;
  private final long retryMillis;
  private final Thread thread;
  /** Guarded by this: what waits, by key, in submission order. */
  private final LinkedHashMap<String, RedisStateStore.Write> waiting = new LinkedHashMap<>();
  /** Guarded by this: the writes taken from {@link #waiting} and not yet in Redis. */
  private int sending;
  /** Guarded by this: keys whose delta Redis answered STALE, since the last takeStale. */
  private final Set<String> stale = new HashSet<>();
  private long written;
  private long refused;
  private long retries;
  private long staleCount;
  private long bytes;
  private boolean closed;
  /** An error Redis answered that sending again cannot mend (not an outage); ends the writer. */
  private RuntimeException failure;

  StoreWriter(RedisStateStore store, Duration retryDelay, String name) {
    this.store = store;
    this.retryMillis = retryDelay.getMillis();
    this.thread = new Thread(this::run, "featurebeam-online-writer-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  synchronized void submit(RedisStateStore.Write write) {
    if (closed || failure != null) {
      throw new IllegalStateException("the online writer is closed");
    }
    RedisStateStore.Write before = waiting.get(write.key());
    if (before == null || write.isWhole()) {
      waiting.put(write.key(), write);
    } else if (before.version().equals(write.base())) {
      waiting.put(write.key(), before.then(write));
    } else { // not one writer's chain (never expected): the step sends the key whole
      waiting.put(write.key(), write);
      stale.add(write.key());
    }
    notifyAll();
  }

  /** The keys whose delta Redis answered STALE since the last call; the step sends them whole. */
  synchronized Set<String> takeStale() {
    Set<String> keys = new HashSet<>(stale);
    stale.clear();
    return keys;
  }

  /** Waits until every write submitted so far is in Redis (or was refused by the guard). */
  synchronized void drain() throws InterruptedException {
    long since = System.currentTimeMillis();
    while (!waiting.isEmpty() || sending > 0) {
      if (failure != null) {
        throw new IllegalStateException("the online store refused a write: "
            + failure.getMessage(), failure);
      }
      if (closed) {
        throw new IllegalStateException("the online writer is closed");
      }
      wait(1_000);
      if (System.currentTimeMillis() - since > 10_000) {
        LOG.warn("waiting for the online store {} to take {} writes", store,
            waiting.size() + sending);
        since = System.currentTimeMillis();
      }
    }
  }

  /**
   * Writes taken, refused by the guard, batches sent again, deltas answered STALE, and bytes of
   * tiles and events sent, since the last call.
   */
  synchronized long[] takeCounts() {
    long[] counts = {written, refused, retries, staleCount, bytes};
    written = 0;
    refused = 0;
    retries = 0;
    staleCount = 0;
    bytes = 0;
    return counts;
  }

  private void run() {
    while (true) {
      List<RedisStateStore.Write> batch;
      synchronized (this) {
        while (waiting.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
        batch = new ArrayList<>(Math.min(BATCH, waiting.size()));
        for (var it = waiting.entrySet().iterator(); it.hasNext() && batch.size() < BATCH; ) {
          Map.Entry<String, RedisStateStore.Write> e = it.next();
          batch.add(e.getValue());
          it.remove();
        }
        sending = batch.size();
      }
      RedisStateStore.Outcome[] done;
      try {
        done = send(batch);
      } catch (RuntimeException e) {
        synchronized (this) {
          failure = e;
          notifyAll();
        }
        return;
      }
      synchronized (this) {
        if (done == null) {
          return; // closed while Redis was away
        }
        for (int i = 0; i < done.length; i++) {
          bytes += batch.get(i).size();
          switch (done[i]) {
            case WRITTEN -> written++;
            case REFUSED -> refused++;
            case STALE -> {
              staleCount++;
              stale.add(batch.get(i).key());
            }
          }
        }
        sending = 0;
        notifyAll();
      }
    }
  }

  /** Sends {@code batch} until Redis takes it; null when closed first. */
  private RedisStateStore.Outcome[] send(List<RedisStateStore.Write> batch) {
    while (true) {
      try {
        return store.writeAll(batch);
      } catch (RedisStateStore.UnavailableException e) {
        synchronized (this) {
          retries++;
          if (closed) {
            return null;
          }
          try {
            wait(retryMillis);
          } catch (InterruptedException interrupted) {
            return null;
          }
          if (closed) {
            return null;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
