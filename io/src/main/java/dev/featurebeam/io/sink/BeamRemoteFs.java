package dev.featurebeam.io.sink;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.CreateOptions;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * A remote root through Beam's {@link FileSystems} (S3, GCS, …): files only, folders being the
 * prefixes of their names, so a listing is a match of {@code dir/**}.
 */
final class BeamRemoteFs implements RemoteFs {
  private final String scheme;

  BeamRemoteFs(String scheme) {
    this.scheme = scheme;
  }

  private static ResourceId file(String location) {
    return FileSystems.matchNewResource(location, false);
  }

  @Override
  public OutputStream create(String location) throws IOException {
    return Channels.newOutputStream(FileSystems.create(file(location),
        CreateOptions.StandardCreateOptions.builder().setMimeType(MimeTypes.BINARY).build()));
  }

  @Override
  public InputStream open(String location) throws IOException {
    return Channels.newInputStream(FileSystems.open(file(location)));
  }

  @Override
  public boolean isFile(String location) throws IOException {
    return !FileSystems.match(location, EmptyMatchTreatment.ALLOW).metadata().isEmpty();
  }

  /** Every file under {@code dir}, as full locations. */
  private List<String> filesUnder(String dir) throws IOException {
    List<String> out = new ArrayList<>();
    for (MatchResult.Metadata m :
        FileSystems.match(StoreLocation.strip(dir) + "/**", EmptyMatchTreatment.ALLOW).metadata()) {
      out.add(m.resourceId().toString());
    }
    return out;
  }

  @Override
  public List<String> list(String dir) throws IOException {
    String prefix = StoreLocation.strip(dir) + "/";
    TreeSet<String> names = new TreeSet<>();
    for (String f : filesUnder(dir)) {
      if (f.startsWith(prefix)) {
        String rest = f.substring(prefix.length());
        int slash = rest.indexOf('/');
        names.add(slash < 0 ? rest : rest.substring(0, slash));
      }
    }
    names.remove("");
    return new ArrayList<>(names);
  }

  @Override
  public void delete(String location) throws IOException {
    FileSystems.delete(List.of(file(location)), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  @Override
  public void deleteTree(String dir) throws IOException {
    List<ResourceId> all = new ArrayList<>();
    for (String f : filesUnder(dir)) {
      all.add(file(f));
    }
    if (!all.isEmpty()) {
      FileSystems.delete(all, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    }
  }

  @Override
  public void deleteIfEmpty(String dir) {
    // a prefix: gone with its last file
  }

  @Override
  public void copy(String from, String to) throws IOException {
    FileSystems.copy(List.of(file(from)), List.of(file(to)));
  }

  @Override
  public boolean createExclusive(String location, byte[] bytes) {
    throw new UnsupportedOperationException(
        "Beam's FileSystems have no exclusive create (" + scheme + "://)");
  }

  @Override
  public String describe() {
    return "Beam FileSystems (" + scheme + ")";
  }
}
