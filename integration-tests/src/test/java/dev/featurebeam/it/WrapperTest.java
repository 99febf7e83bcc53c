package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./featurebeam} wrapper's first build, with stand-ins for {@code mvn} and {@code java}
 * on the PATH: what it says while it builds, and what it shows when the build fails.
 */
class WrapperTest {
  private record Run(int exit, String out, String err) {}

  /** A copy of the wrapper in an empty repository, so that it has no jar and must build one. */
  private static Path repo(Path tmp) throws IOException {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.copy(CommandLineTest.repoFile("featurebeam"), repo.resolve("featurebeam"));
    Files.writeString(repo.resolve("pom.xml"), "<project/>");
    return repo;
  }

  private static void tool(Path bin, String name, String script) throws IOException {
    Files.createDirectories(bin);
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/usr/bin/env bash\n" + script + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static Run run(Path repo, Path bin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", repo.resolve("featurebeam").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("FEATUREBEAM_CDS", "off");
    pb.environment().put("TMPDIR", repo.toString());
    Path out = repo.resolve("stdout.txt");
    Path err = repo.resolve("stderr.txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS), is(true));
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void theFirstBuildSaysHowLongItTakesAndThenRuns(@TempDir Path tmp) throws Exception {
    Path repo = repo(tmp);
    Path bin = tmp.resolve("bin");
    // mvn "builds" the jar; java prints what it was asked to run.
    tool(bin, "mvn", "echo \"$*\" > mvn-args.txt; mkdir -p pipelines/target;"
        + " echo jar > pipelines/target/featurebeam.jar");
    tool(bin, "java", "echo \"java $*\"");
    Run r = run(repo, bin, "help");
    assertThat(r.err(), r.exit(), is(0));
    assertThat(r.err(), allOf(
        containsString("featurebeam: building FeatureBeam (about a minute the first time"),
        containsString("featurebeam: built in ")));
    assertThat(r.out(), allOf(containsString("-Xmx2g -jar " + repo.resolve("pipelines/target/featurebeam.jar")),
        containsString(" help")));
    // package, not install: nothing goes into ~/.m2.
    String mvnArgs = Files.readString(repo.resolve("mvn-args.txt"));
    assertThat(mvnArgs, allOf(containsString("package"), containsString("-pl pipelines -am"),
        not(containsString("install"))));

    // Built and not stale: no second build.
    Run again = run(repo, bin, "help");
    assertThat(again.err(), not(containsString("building")));
  }

  @Test
  void aFailedBuildShowsMavensErrorsAndWhereTheRestIs(@TempDir Path tmp) throws Exception {
    Path repo = repo(tmp);
    Path bin = tmp.resolve("bin");
    tool(bin, "mvn", "echo '[ERROR] /repo/io/src/main/java/X.java:[3,8] cannot find symbol';"
        + " echo '[ERROR] -> [Help 1]'; echo '[ERROR] Re-run Maven using the -X switch'; exit 1");
    tool(bin, "java", "echo should-not-run; exit 9");
    Run r = run(repo, bin, "help");
    assertThat(r.err(), r.exit(), is(1));
    assertThat(r.err(), allOf(containsString("building FeatureBeam"),
        containsString("[ERROR] /repo/io/src/main/java/X.java:[3,8] cannot find symbol"),
        not(containsString("[Help 1]")), not(containsString("-X switch")),
        containsString("featurebeam: the build failed; Maven's whole output is in ")));
    assertThat(r.out(), not(containsString("should-not-run")));
  }
}
