package dev.featurebeam.pipelines;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;

/**
 * A batch run's load of the online store: each entity's events of the run (valid, de-duplicated,
 * before the last as-of instant) into one {@link EntityState}, written to Redis as of the run's
 * end ({@code watermark}, the last as-of instant) by {@link RedisStateStore}'s guarded whole write
 * (its tiles and each kept day's events), with the whole state as the entity's base, so that a
 * state a stream already moved past is left alone. A key expires when no window can read
 * its latest event any more, never for a spec with a whole-history feature. Counts {@code
 * online_written} and {@code online_refused}.
 */
final class OnlineStoreLoad extends PTransform<PCollection<Row>, PDone> {
  static final String NAMESPACE = "featurebeam.online";
  static final String WRITTEN = "online_written";
  static final String REFUSED = "online_refused";

  private final String url;
  private final FeatureSpec spec;
  private final long watermark;

  OnlineStoreLoad(String url, FeatureSpec spec, long watermark) {
    this.url = url;
    this.spec = spec;
    this.watermark = watermark;
  }

  @Override
  public PDone expand(PCollection<Row> events) {
    events
        .apply("KeyByEntity", ParDo.of(new KeyFn(spec)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), Encoded.coder(RowCoder.of(spec.eventSchema()))))
        .apply("GroupByEntity", GroupByKey.create())
        .apply("WriteStates", ParDo.of(new WriteFn(url, spec, watermark)));
    return PDone.in(events.getPipeline());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("onlineStore", RedisStateStore.describe(url))
        .withLabel("Online store"));
  }

  static final class KeyFn extends DoFn<Row, KV<String, Encoded<Row>>> {
    private final String entity;
    private final RowCoder coder;

    KeyFn(FeatureSpec spec) {
      this.entity = spec.entity();
      this.coder = RowCoder.of(spec.eventSchema());
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Encoded<Row>>> out) {
      out.output(KV.of(event.getString(entity), Encoded.of(event, coder)));
    }
  }

  static final class WriteFn extends DoFn<KV<String, Iterable<Encoded<Row>>>, Void> {
    private final String url;
    private final FeatureSpec spec;
    private final long watermark;
    private final Counter written = Metrics.counter(NAMESPACE, WRITTEN);
    private final Counter refused = Metrics.counter(NAMESPACE, REFUSED);
    private transient RedisStateStore store;
    private transient Coder<EntityState> coder;
    private transient StateParts parts;

    WriteFn(String url, FeatureSpec spec, long watermark) {
      this.url = url;
      this.spec = spec;
      this.watermark = watermark;
    }

    @Setup
    public void setup() {
      store = RedisStateStore.open(url);
      coder = EntityState.coder(spec);
      parts = StateParts.of(spec);
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<Encoded<Row>>> entity) throws Exception {
      EntityState state = parts.empty();
      for (Encoded<Row> e : entity.getValue()) {
        state.add(e.get());
      }
      long until = state.readableUntilMillis();
      List<RedisStateStore.DayEvents> days = new ArrayList<>();
      for (long day : state.keptDays()) {
        days.add(new RedisStateStore.DayEvents(day, false, parts.events(state.eventsOf(day))));
      }
      RedisStateStore.Write write = new RedisStateStore.Write(
          RedisStateStore.key(spec.featureSet(), spec.version(), entity.getKey()),
          parts.tiles(state),
          new RedisStateStore.Version(state.latestEventMillis(), state.eventCount(),
              state.digest()),
          watermark, until == Long.MAX_VALUE ? 0 : Math.max(1, until), null, state.keptDays(),
          days);
      RedisStateStore.Outcome done =
          store.writeWithBase(write, CoderUtils.encodeToByteArray(coder, state));
      (done == RedisStateStore.Outcome.WRITTEN ? written : refused).inc();
    }

    @Teardown
    public void teardown() {
      if (store != null) {
        store.close();
      }
    }
  }
}
