package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.BundleCounter;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.DisplayItems;
import dev.featurebeam.transforms.EventRows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.ReadableInstant;

/**
 * A point-in-time join: for every row of a spine (an entity and an instant T, plus any other
 * columns), the spec's features of that entity at T, exact to the millisecond. A window of length
 * L covers [T - L, T) and no event at or after T is used. Every spine row gets exactly one output
 * row, duplicates included; an entity without events before T gets counts 0, {@code exists} false
 * and nulls.
 *
 * <pre>{@code
 * PCollectionTuple out = PCollectionTuple.of(TrainingSet.EVENTS, events)
 *     .and(TrainingSet.SPINE, spine)
 *     .apply(TrainingSet.of(spec).withSpineTimestampField("label_time"));
 * PCollection<Row> rows = out.get(TrainingSet.ROWS);
 * }</pre>
 *
 * <p>Inputs, both bounded: {@link #EVENTS}, valid and de-duplicated events in the spec's event
 * schema (what validation, cleaning and de-duplication give); {@link #SPINE}, rows with the entity
 * field (a string, default the spec's entity column) and the timestamp field (a {@code DATETIME}
 * or an {@code INT64} of epoch milliseconds, default {@code timestamp}), neither null. Outputs:
 * {@link #ROWS}, the spine's fields followed by the features in spec order with the offline
 * store's types ({@link #outputSchema}); {@link #INVALID_VALUES}, the values no column can hold
 * (null in their row), whose as-of day is the spine row's UTC day.
 *
 * <p>Cost: one grouping. Events and spine rows are grouped by entity, each crossing the shuffle
 * once as encoded bytes; per entity each event is read and tiled once into its day's tile, the
 * spine rows are sorted by T, and the events of the days where a window starts or ends inside a
 * day (its edge days, from the spine alone) are decoded once more, in time order. One walk
 * ({@link InstantWalk}) then answers every spine row: linear in the entity's events and spine
 * rows, never a scan of its history per spine row. An entity's spine rows, tiles and events (as
 * bytes) are held in memory, and each group is read in one pass. Counts {@code tiles} and {@code
 * training_rows}.
 */
@AutoValue
public abstract class TrainingSet extends PTransform<PCollectionTuple, PCollectionTuple> {
  /** Input: valid, de-duplicated events in the spec's event schema. */
  public static final TupleTag<Row> EVENTS = new TupleTag<Row>() {};
  /** Input: the spine rows. */
  public static final TupleTag<Row> SPINE = new TupleTag<Row>() {};
  /** Output: one row per spine row, in {@link #outputSchema}. */
  public static final TupleTag<Row> ROWS = new TupleTag<Row>() {};
  /** Output: values their columns cannot hold (an int64 sum that overflows, ...). */
  public static final TupleTag<InvalidValue> INVALID_VALUES = new TupleTag<InvalidValue>() {};

  /** Counter of the output rows. */
  public static final String TRAINING_ROWS = "training_rows";

  /** The spine's timestamp field unless {@link #withSpineTimestampField} says otherwise. */
  public static final String DEFAULT_TIMESTAMP_FIELD = "timestamp";

  abstract FeatureSpec spec();

  abstract String spineEntityField();

  abstract String spineTimestampField();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setSpineEntityField(String field);

    abstract Builder setSpineTimestampField(String field);

    abstract TrainingSet build();
  }

  /** The features of {@code spec} at each spine row's instant. */
  public static TrainingSet of(FeatureSpec spec) {
    checkNotNull(spec, "a spec is needed");
    return new AutoValue_TrainingSet.Builder()
        .setSpec(spec)
        .setSpineEntityField(spec.entity())
        .setSpineTimestampField(DEFAULT_TIMESTAMP_FIELD)
        .build();
  }

  /** The spine's entity field (a string); default the spec's entity column. */
  public TrainingSet withSpineEntityField(String field) {
    checkArgument(field != null && !field.isEmpty(), "a spine entity field is needed");
    return toBuilder().setSpineEntityField(field).build();
  }

  /** The spine's instant field (DATETIME or INT64 epoch millis); default {@code timestamp}. */
  public TrainingSet withSpineTimestampField(String field) {
    checkArgument(field != null && !field.isEmpty(), "a spine timestamp field is needed");
    return toBuilder().setSpineTimestampField(field).build();
  }

  /**
   * The output schema for a spine schema: the spine's fields, then each feature (nullable) with
   * the offline store's type.
   *
   * @throws IllegalArgumentException when the spine lacks the entity or timestamp field, they
   *     have the wrong type, or a spine field has a feature's name
   */
  public Schema outputSchema(Schema spine) {
    checkSpine(spine);
    Schema.Builder b = Schema.builder();
    for (Schema.Field f : spine.getFields()) {
      b.addField(f);
    }
    for (FeatureDef f : spec().features()) {
      b.addField(Schema.Field.nullable(f.name(), spec().outputType(f)));
    }
    return b.build();
  }

  private void checkSpine(Schema spine) {
    checkArgument(spine.hasField(spineEntityField()),
        "the spine has no entity field %s", spineEntityField());
    checkArgument(spine.hasField(spineTimestampField()),
        "the spine has no timestamp field %s", spineTimestampField());
    checkArgument(
        spine.getField(spineEntityField()).getType().getTypeName() == Schema.TypeName.STRING,
        "the spine's entity field %s must be a string", spineEntityField());
    Schema.TypeName ts = spine.getField(spineTimestampField()).getType().getTypeName();
    checkArgument(ts == Schema.TypeName.DATETIME || ts == Schema.TypeName.INT64,
        "the spine's timestamp field %s must be a DATETIME or an INT64 of epoch milliseconds,"
            + " not %s", spineTimestampField(), ts);
    for (FeatureDef f : spec().features()) {
      checkArgument(!spine.hasField(f.name()),
          "the spine has a field named like the feature %s", f.name());
    }
  }

  @Override
  public PCollectionTuple expand(PCollectionTuple input) {
    checkArgument(input.has(EVENTS), "the input needs TrainingSet.EVENTS");
    checkArgument(input.has(SPINE), "the input needs TrainingSet.SPINE");
    PCollection<Row> events = input.get(EVENTS);
    PCollection<Row> spine = input.get(SPINE);
    checkArgument(events.isBounded() == PCollection.IsBounded.BOUNDED
            && spine.isBounded() == PCollection.IsBounded.BOUNDED,
        "a training set needs bounded events and a bounded spine");
    checkArgument(events.getSchema().equals(spec().eventSchema()),
        "the events must be in the spec's event schema %s, not %s",
        spec().eventSchema(), events.getSchema());
    Schema spineSchema = spine.getSchema();
    Schema out = outputSchema(spineSchema);
    FeaturePlan plan = new FeaturePlan(spec());
    int entityIndex = spineSchema.indexOf(spineEntityField());
    int timestampIndex = spineSchema.indexOf(spineTimestampField());
    // Each group is read once, in one pass (a runner may not re-iterate a large group), so both
    // inputs travel as one union: 0 events, 1 spine rows. Both cross the shuffle encoded: the
    // runner copies their bytes without decoding them.
    UnionCoder union = UnionCoder.of(List.of(Encoded.coder(RowCoder.of(spec().eventSchema())),
        Encoded.coder(RowCoder.of(spineSchema))));
    KvCoder<String, RawUnionValue> keyed = KvCoder.of(StringUtf8Coder.of(), union);
    PCollection<KV<String, RawUnionValue>> eventsByEntity = events
        .apply("EventsInGlobalWindow", Window.<Row>into(new GlobalWindows()))
        .apply("KeyEvents", ParDo.of(new KeyEventsFn(plan, spec().eventSchema())))
        .setCoder(keyed);
    PCollection<KV<String, RawUnionValue>> spineByEntity = spine
        .apply("SpineInGlobalWindow", Window.<Row>into(new GlobalWindows()))
        .apply("KeySpine", ParDo.of(new KeySpineFn(spineSchema, entityIndex, timestampIndex)))
        .setCoder(keyed);
    PCollectionTuple result = PCollectionList.of(eventsByEntity).and(spineByEntity)
        .apply("EventsAndSpine", Flatten.pCollections())
        .apply("GroupByEntity", GroupByKey.create())
        .apply("AnswerAtInstants",
            ParDo.of(new AnswerFn(spec(), plan, out, timestampIndex))
                .withOutputTags(ROWS, TupleTagList.of(INVALID_VALUES)));
    result.get(ROWS).setCoder(RowCoder.of(out));
    result.get(INVALID_VALUES).setCoder(InvalidValue.InvalidValueCoder.of());
    return PCollectionTuple.of(ROWS, result.get(ROWS))
        .and(INVALID_VALUES, result.get(INVALID_VALUES));
  }

  static final int EVENT = 0;
  static final int SPINE_ROW = 1;

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayData.item("features", spec().features().size()).withLabel("Features"))
        .add(DisplayData.item("spineEntityField", spineEntityField())
            .withLabel("Spine entity field"))
        .add(DisplayData.item("spineTimestampField", spineTimestampField())
            .withLabel("Spine timestamp field"));
  }

  /** A spine row's instant in epoch milliseconds. */
  static long instantOf(Row row, int timestampIndex) {
    Object v = row.getValue(timestampIndex);
    checkArgument(v != null, "a spine row has no timestamp: %s", row);
    return v instanceof ReadableInstant ? ((ReadableInstant) v).getMillis() : (Long) v;
  }

  static class KeySpineFn extends DoFn<Row, KV<String, RawUnionValue>> {
    private final RowCoder coder;
    private final int entityIndex;
    private final int timestampIndex;

    KeySpineFn(Schema spine, int entityIndex, int timestampIndex) {
      this.coder = RowCoder.of(spine);
      this.entityIndex = entityIndex;
      this.timestampIndex = timestampIndex;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, RawUnionValue>> out) {
      String entity = row.getString(entityIndex);
      checkArgument(entity != null, "a spine row has no entity: %s", row);
      instantOf(row, timestampIndex);
      out.output(KV.of(entity, new RawUnionValue(SPINE_ROW, Encoded.of(row, coder))));
    }
  }

  /** Events keyed by entity. */
  static class KeyEventsFn extends DoFn<Row, KV<String, RawUnionValue>> {
    private final FeaturePlan plan;
    private final RowCoder coder;

    KeyEventsFn(FeaturePlan plan, Schema events) {
      this.plan = plan;
      this.coder = RowCoder.of(events);
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, RawUnionValue>> out) {
      out.output(KV.of(event.getString(plan.entityIndex),
          new RawUnionValue(EVENT, Encoded.of(event, coder))));
    }
  }

  /** Per entity: its day tiles, its edge days' events and its spine rows, answered in one walk. */
  static class AnswerFn extends DoFn<KV<String, Iterable<RawUnionValue>>, Row> {
    private final FeatureSpec spec;
    private final FeaturePlan plan;
    private final Schema out;
    private final int timestampIndex;
    private final BundleCounter rows = BundleCounter.of(Counters.NAMESPACE, TRAINING_ROWS);
    private final BundleCounter tileCount = BundleCounter.of(Counters.TILES);

    AnswerFn(FeatureSpec spec, FeaturePlan plan, Schema out, int timestampIndex) {
      this.spec = spec;
      this.plan = plan;
      this.out = out;
      this.timestampIndex = timestampIndex;
    }

    @FinishBundle
    public void finishBundle() {
      BundleCounter.flush(rows, tileCount);
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(@Element KV<String, Iterable<RawUnionValue>> element,
        MultiOutputReceiver receiver) {
      List<Row> spine = new ArrayList<>();
      // Each event is tiled once; its bytes are kept by day, and decoded again only for the
      // days a spine row's window reads in part.
      TreeMap<Long, Tile> tiles = new TreeMap<>();
      TreeMap<Long, List<Encoded<Row>>> eventsByDay = new TreeMap<>();
      for (RawUnionValue v : element.getValue()) {
        Encoded<Row> encoded = (Encoded<Row>) v.getValue();
        if (v.getUnionTag() == SPINE_ROW) {
          spine.add(encoded.get());
          continue;
        }
        Row event = encoded.get();
        long day = Math.floorDiv(EventRows.eventTimeMillis(event, plan.timestampIndex),
            FeaturePlan.DAY);
        tiles.computeIfAbsent(day, d -> new Tile(plan)).add(plan, event);
        eventsByDay.computeIfAbsent(day, d -> new ArrayList<>()).add(encoded);
      }
      tileCount.inc(tiles.size());
      if (spine.isEmpty()) {
        return; // an entity nobody asks about
      }
      spine.sort(Comparator.comparingLong(r -> instantOf(r, timestampIndex)));
      long[] instants = new long[spine.size()];
      Set<Long> edgeDays = new HashSet<>();
      for (int k = 0; k < instants.length; k++) {
        instants[k] = instantOf(spine.get(k), timestampIndex);
        InstantWalk.edgeDays(plan, instants[k], edgeDays::add);
      }
      List<Row> edge = new ArrayList<>();
      for (long day : edgeDays) {
        for (Encoded<Row> e : eventsByDay.getOrDefault(day, List.of())) {
          edge.add(e.get());
        }
      }
      edge.sort(Comparator.comparingLong(e -> EventRows.eventTimeMillis(e, plan.timestampIndex)));
      long[] days = new long[tiles.size()];
      Tile[] sorted = new Tile[tiles.size()];
      int n = 0;
      for (java.util.Map.Entry<Long, Tile> e : tiles.entrySet()) {
        days[n] = e.getKey();
        sorted[n++] = e.getValue();
      }
      InstantWalk walk =
          new InstantWalk(plan, days, sorted, edge.toArray(new Row[0]), instants);
      String entity = element.getKey();
      int spineFields = out.getFieldCount() - plan.size();
      for (int k = 0; k < instants.length; k++) {
        Agg[] aggs = walk.next();
        Row row = spine.get(k);
        Object[] values = new Object[out.getFieldCount()];
        for (int f = 0; f < spineFields; f++) {
          values[f] = row.getValue(f);
        }
        for (int i = 0; i < aggs.length; i++) {
          try {
            values[spineFields + i] = aggs[i].result(plan.aggs[i],
                plan.fieldTypes[i] == FieldType.LONG, plan.timestampField[i], instants[k]);
          } catch (Agg.UnrepresentableException e) {
            receiver.get(INVALID_VALUES).output(InvalidValue.of(
                Math.floorDiv(instants[k], FeaturePlan.DAY), entity,
                spec.features().get(i).name(), e.getMessage()));
          }
        }
        receiver.get(ROWS).output(Row.withSchema(out).attachValues(Arrays.asList(values)));
        rows.inc();
      }
    }
  }
}
