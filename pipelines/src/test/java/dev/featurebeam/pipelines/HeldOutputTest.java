package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the libraries print waits for a failure; FeatureBeam's own lines pass. */
class HeldOutputTest {
  @Test
  void holdsTheLibrariesLinesAndPassesFeatureBeamsOwn() {
    ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    HeldOutput held = HeldOutput.over(new PrintStream(terminal, true, StandardCharsets.UTF_8));
    PrintStream err = new PrintStream(held, true, StandardCharsets.UTF_8);
    err.println("[main] WARN org.example.Lib - something");
    err.println("featurebeam: fault injected: halt at publish.after-exchange@2025-01-05");
    err.print("java.lang.IllegalStateException: x\n\tat a.b.C(C.java:1)\n");
    assertThat(terminal.toString(StandardCharsets.UTF_8),
        equalTo("featurebeam: fault injected: halt at publish.after-exchange@2025-01-05\n"));
    assertThat(held.text(), containsString("WARN org.example.Lib - something\n"));
    assertThat(held.text(), containsString("\tat a.b.C(C.java:1)"));

    held.tee(true); // --verbose: everything, as it comes
    err.println("[main] WARN org.example.Lib - more");
    assertThat(terminal.toString(StandardCharsets.UTF_8), containsString("WARN org.example.Lib - more"));
    assertThat(held.text().contains("more"), is(true));
  }

  @Test
  void inProcessNothingIsHeld() {
    PrintStream err = new PrintStream(HeldOutput.NONE, true, StandardCharsets.UTF_8);
    err.println("anything");
    assertThat(HeldOutput.NONE.text(), equalTo(""));
  }
}
