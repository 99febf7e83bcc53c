package dev.featurebeam.io.source.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * The landed copy of one API pull: {@code OUT/_landing/<feature_set>/v<version>/<request key>/}
 * holds each fetched page as {@code page-NNNNN.jsonl} (one record a line, as {@link ApiPage}
 * prints it) and {@value #MANIFEST}: the request, the pages with their URL, record count, sha256
 * and fetch time, where the pull goes on ({@code next}) and whether it is complete.
 *
 * <p>A page is written under a temporary name and moved into place, then the manifest the same
 * way: the manifest lists only whole pages, and a pull interrupted at any point resumes from its
 * {@code next}. A page file the manifest does not list is what an interrupted pull left before
 * recording it; it is removed and fetched again. The caller holds the store's lock, so that one
 * pull at a time writes a landing.
 */
public final class Landing {
  public static final String MANIFEST = "_LANDING.json";
  public static final String LANDING_DIR = "_landing";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One landed page. */
  public record Page(@JsonProperty("file") String file, @JsonProperty("url") String url,
      @JsonProperty("records") long records, @JsonProperty("sha256") String sha256,
      @JsonProperty("fetched_at") String fetchedAt, @JsonProperty("attempts") int attempts) {}

  private final Path dir;
  private final Map<String, Object> request;
  private final List<Page> pages;
  private @Nullable String next;
  private boolean complete;
  private final String startedAt;
  private @Nullable String completedAt;

  private Landing(Path dir, Map<String, Object> request, List<Page> pages, @Nullable String next,
      boolean complete, String startedAt, @Nullable String completedAt) {
    this.dir = dir;
    this.request = request;
    this.pages = pages;
    this.next = next;
    this.complete = complete;
    this.startedAt = startedAt;
    this.completedAt = completedAt;
  }

  /** Where {@code request}'s pages land for {@code spec} in the store {@code out}. */
  public static Path folder(Path out, FeatureSpec spec, ApiRequest request) {
    return out.resolve(LANDING_DIR).resolve(spec.featureSet()).resolve("v" + spec.version())
        .resolve(request.key());
  }

  /**
   * The landing in {@code dir}, as its manifest left it, or a new, empty one. Page files the
   * manifest does not list are removed.
   *
   * @throws IllegalStateException when the manifest is unreadable or records another request
   */
  public static Landing open(Path dir, ApiRequest request) {
    recoverSwap(dir);
    Map<String, Object> wanted = request.describe();
    Path manifest = dir.resolve(MANIFEST);
    Landing landing;
    if (Files.exists(manifest)) {
      Map<String, Object> m;
      try {
        m = JSON.readValue(manifest.toFile(), new TypeReference<Map<String, Object>>() {});
      } catch (IOException e) {
        throw new IllegalStateException("cannot read the landing's " + manifest + ": "
            + e.getMessage() + "; remove the folder (or give --refetch) to fetch anew", e);
      }
      if (!sameJson(m.get("request"), wanted)) {
        throw new IllegalStateException("the landing " + dir + " holds another request: "
            + m.get("request"));
      }
      List<Page> pages = JSON.convertValue(m.get("pages"), new TypeReference<List<Page>>() {});
      landing = new Landing(dir, wanted, new ArrayList<>(pages), (String) m.get("next"),
          Boolean.TRUE.equals(m.get("complete")), (String) m.get("started_at"),
          (String) m.get("completed_at"));
    } else {
      landing = new Landing(dir, wanted, new ArrayList<>(), null, false,
          Instant.now().toString(), null);
    }
    landing.removeStrays();
    return landing;
  }

  /** Equal as JSON text: a number read back is an Integer where a Long was written. */
  private static boolean sameJson(Object a, Object b) {
    try {
      return JSON.writeValueAsString(a).equals(JSON.writeValueAsString(b));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where a refetch of {@code dir} lands until it is complete. */
  static Path refetchDir(Path dir) {
    return dir.resolveSibling(dir.getFileName() + ".refetch");
  }

  private static Path previousDir(Path dir) {
    return dir.resolveSibling(dir.getFileName() + ".previous");
  }

  /**
   * Puts this complete landing (a refetch's) in the place of {@code dir}'s: the old one is moved
   * aside, this one moved in, the old one removed. {@link #open} finishes or undoes a swap that a
   * crash interrupted, so {@code dir} always holds one whole landing.
   */
  Landing replace(Path target, ApiRequest request) {
    if (!complete) {
      throw new IllegalStateException("an incomplete landing replaces nothing");
    }
    try {
      recoverSwap(target);
      Path previous = previousDir(target);
      if (Files.exists(target)) {
        Files.move(target, previous, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
      OfflineStore.deleteRecursively(previous);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot put the refetched " + dir + " in place of " + target,
          e);
    }
    return open(target, request);
  }

  /** After a crash in {@link #replace}: the new landing if it is in place, else the old one. */
  private static void recoverSwap(Path dir) {
    Path previous = previousDir(dir);
    if (!Files.exists(previous)) {
      return;
    }
    try {
      if (Files.exists(dir)) {
        OfflineStore.deleteRecursively(previous);
      } else {
        Files.move(previous, dir, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the landing " + dir, e);
    }
  }

  /** Removes the landing in {@code dir} and returns a new, empty one there. */
  public static Landing fresh(Path dir, ApiRequest request) {
    try {
      OfflineStore.deleteRecursively(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the landing " + dir, e);
    }
    return open(dir, request);
  }

  public Path dir() {
    return dir;
  }

  /** The glob of the landed pages, as a file source reads them. */
  public String glob() {
    return dir.resolve("page-*.jsonl").toString();
  }

  public List<Page> pages() {
    return List.copyOf(pages);
  }

  public long records() {
    return pages.stream().mapToLong(Page::records).sum();
  }

  public boolean complete() {
    return complete;
  }

  /** Where the pull goes on: a URL, a cursor or a page number; null before the first page. */
  public @Nullable String next() {
    return next;
  }

  public boolean isEmpty() {
    return pages.isEmpty();
  }

  /**
   * Lands {@code page}, fetched from {@code url} in {@code attempts} attempts: its file first,
   * then the manifest, which then says to go on from the page's next (complete when it has none).
   */
  public void land(String url, ApiPage page, int attempts) {
    String name = String.format(Locale.ROOT, "page-%05d.jsonl", pages.size() + 1);
    byte[] bytes = bytes(page);
    try {
      Files.createDirectories(dir);
      replace(dir.resolve(name), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot land " + dir.resolve(name), e);
    }
    pages.add(new Page(name, url, page.records().size(), sha256(bytes), Instant.now().toString(),
        attempts));
    next = page.next();
    complete = next == null;
    if (complete) {
      completedAt = Instant.now().toString();
    }
    writeManifest();
  }

  /**
   * Checks that the folder holds exactly the pages the manifest lists, byte for byte.
   *
   * @throws IllegalStateException naming the page that differs
   */
  public void verify() {
    for (Page p : pages) {
      Path file = dir.resolve(p.file());
      try {
        if (!Files.isRegularFile(file)) {
          throw new IllegalStateException("the landing " + dir + " lacks " + p.file()
              + "; give --refetch to fetch anew");
        }
        String held = sha256(Files.readAllBytes(file));
        if (!held.equals(p.sha256())) {
          throw new IllegalStateException("the landed " + file + " is not what was fetched (sha256 "
              + held + ", manifest " + p.sha256() + "); give --refetch to fetch anew");
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
  }

  private void removeStrays() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    List<String> listed = pages.stream().map(Page::file).toList();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String n = f.getFileName().toString();
        if ((n.startsWith("page-") || n.endsWith(".tmp")) && !listed.contains(n)) {
          Files.delete(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean the landing " + dir, e);
    }
  }

  private void writeManifest() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("request", request);
    m.put("started_at", startedAt);
    m.put("complete", complete);
    m.put("completed_at", completedAt);
    m.put("next", next);
    m.put("records", records());
    m.put("pages", pages);
    try {
      replace(dir.resolve(MANIFEST), JSON.writeValueAsBytes(m));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(MANIFEST), e);
    }
  }

  /** Writes {@code target} whole or not at all: a temporary file, then a rename over it. */
  private static void replace(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** A page's file: each record on its own line. */
  static byte[] bytes(ApiPage page) {
    StringBuilder text = new StringBuilder();
    for (String record : page.records()) {
      text.append(record).append('\n');
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
