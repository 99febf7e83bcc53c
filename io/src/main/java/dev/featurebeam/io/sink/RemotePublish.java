package dev.featurebeam.io.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Publishing on a remote root, where no folder can be swapped and a rename may be a copy and a
 * delete (S3). The manifest is the commit: a reader trusts a partition only through its {@code
 * _MANIFEST.json}, and only the files it lists with their sha256, so the files beside it may
 * change while no manifest (or a stale one whose hashes no longer match) is there.
 *
 * <p>A date is published in these steps:
 *
 * <ol>
 *   <li>its files are staged under {@code _staging/<run id>/as_of_date=D/} (each whole once its
 *       create returns);
 *   <li>once the date passed its checks, its manifest is written into that staged folder: the
 *       date's journal, which says that the staged files are complete and are to be published;
 *   <li>the published manifest is deleted (the date is unpublished from here on);
 *   <li>each listed file is copied from staging over the published one;
 *   <li>published files the new manifest does not list are deleted (a rerun with fewer shards
 *       leaves no stale part file);
 *   <li>the manifest is copied in last (the date is published again, with the new bytes);
 *   <li>the staged folder is deleted.
 * </ol>
 *
 * <p>A crash at any step leaves every other date readable through its manifest. The next run
 * ({@link StoreRecovery}, under the lock) rolls forward every staged date that has its journal,
 * repeating steps 3 to 7 (each is idempotent), and discards a staged date without one. The run
 * folder ({@code _runs/<from>_<to>/}) is published the same way, with a journal {@value
 * #RUN_JOURNAL} that names the folder and its files.
 */
final class RemotePublish {
  /** In a staged run folder: the run folder's name under {@code _runs/} and its files, written last. */
  static final String RUN_JOURNAL = "_PUBLISH.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private RemotePublish() {}

  /**
   * Writes the journal of a staged date ({@code manifest} into {@code staged}) and publishes it.
   */
  static void publish(RemoteFs fs, String staged, String published, byte[] manifest, String date)
      throws IOException {
    fs.write(StoreLocation.join(staged, OfflineStore.MANIFEST), manifest);
    StoreFaults.at(StoreFaults.AFTER_MANIFEST, date);
    rollForward(fs, staged, published, date);
  }

  /** Steps 3 to 7 for a staged date whose journal (its manifest) is in {@code staged}. */
  static void rollForward(RemoteFs fs, String staged, String published, String qualifier)
      throws IOException {
    byte[] manifest = fs.read(StoreLocation.join(staged, OfflineStore.MANIFEST));
    List<String> files = new ArrayList<>();
    for (JsonNode f : JSON.readTree(manifest).get("files")) {
      files.add(f.get("name").asText());
    }
    replaceFiles(fs, staged, published, OfflineStore.MANIFEST, files, qualifier);
  }

  /**
   * Replaces {@code target}'s files by {@code staged}'s {@code files}, then {@code commitFile}
   * last; deletes the rest of {@code target}'s files and then {@code staged}.
   */
  static void replaceFiles(RemoteFs fs, String staged, String target, String commitFile,
      List<String> files, String qualifier) throws IOException {
    fs.delete(StoreLocation.join(target, commitFile));
    StoreFaults.at(StoreFaults.AFTER_UNPUBLISH, qualifier);
    boolean first = true;
    for (String name : files) {
      fs.copy(StoreLocation.join(staged, name), StoreLocation.join(target, name));
      if (first) {
        StoreFaults.at(StoreFaults.AFTER_FIRST_COPY, qualifier);
        first = false;
      }
    }
    Set<String> keep = new LinkedHashSet<>(files);
    keep.add(commitFile);
    for (String name : fs.list(target)) {
      if (!keep.contains(name)) {
        fs.delete(StoreLocation.join(target, name));
      }
    }
    fs.copy(StoreLocation.join(staged, commitFile), StoreLocation.join(target, commitFile));
    StoreFaults.at(StoreFaults.AFTER_MOVE_IN, qualifier);
    fs.deleteTree(staged);
    StoreFaults.at(StoreFaults.AFTER_CLEANUP, qualifier);
  }

  /**
   * Publishes a staged run folder (report, quarantine) as {@code _runs/<name>}: the journal names
   * the folder and its files, then they replace the old ones, the report last.
   */
  static void publishRunFolder(RemoteFs fs, String staged, String versionDir, String name,
      String reportFile) throws IOException {
    List<String> files = new ArrayList<>();
    for (String f : fs.list(staged)) {
      if (!f.equals(reportFile) && !f.startsWith("_") && !f.startsWith(".")) {
        files.add(f);
      }
    }
    var journal = JSON.createObjectNode();
    journal.put("run_folder", name);
    journal.put("commit", reportFile);
    var list = journal.putArray("files");
    files.forEach(list::add);
    fs.write(StoreLocation.join(staged, RUN_JOURNAL), JSON.writeValueAsBytes(journal));
    rollForwardRunFolder(fs, staged, versionDir, "run");
  }

  /** Steps 3 to 7 for a staged run folder that has its journal. */
  static String rollForwardRunFolder(RemoteFs fs, String staged, String versionDir,
      String qualifier) throws IOException {
    JsonNode journal = JSON.readTree(fs.read(StoreLocation.join(staged, RUN_JOURNAL)));
    String name = journal.get("run_folder").asText();
    List<String> files = new ArrayList<>();
    journal.get("files").forEach(f -> files.add(f.asText()));
    String target = StoreLocation.join(versionDir, OfflineStore.RUNS, name);
    replaceFiles(fs, staged, target, journal.get("commit").asText(), files, qualifier);
    return OfflineStore.RUNS + "/" + name;
  }

  /**
   * Whether every file a staged manifest lists is in {@code staged} with its sha256: a journal
   * is only written after its files, so this holds unless the staging was tampered with.
   */
  static boolean stagedFilesMatch(RemoteFs fs, String staged) throws IOException {
    byte[] manifest = fs.read(StoreLocation.join(staged, OfflineStore.MANIFEST));
    for (JsonNode f : JSON.readTree(manifest).get("files")) {
      String file = StoreLocation.join(staged, f.get("name").asText());
      if (!fs.isFile(file) || !sha256(fs, file).equals(f.get("sha256").asText())) {
        return false;
      }
    }
    return true;
  }

  static String sha256(RemoteFs fs, String file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(fs.open(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
