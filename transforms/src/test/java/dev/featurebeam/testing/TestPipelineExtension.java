package dev.featurebeam.testing;

import java.lang.reflect.Method;
import org.apache.beam.sdk.testing.TestPipeline;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.runner.Description;
import org.junit.runners.model.Statement;

/**
 * Drives Beam's {@link TestPipeline} (a JUnit 4 rule in Beam 2.62) from JUnit 5: a test method
 * takes a {@code TestPipeline} parameter, and the test body runs inside the rule's statement, so
 * that the rule's checks (every PAssert ran, no node left unapplied) hold as they do in JUnit 4.
 * Beam ships such an extension only from 2.69.
 *
 * <pre>{@code
 * @ExtendWith(TestPipelineExtension.class)
 * class MyTest {
 *   @Test void works(TestPipeline p) { ...; p.run(); }
 * }
 * }</pre>
 */
public class TestPipelineExtension implements ParameterResolver, InvocationInterceptor {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(TestPipelineExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext context) {
    return parameterContext.getParameter().getType() == TestPipeline.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
    return context
        .getStore(NS)
        .getOrComputeIfAbsent(
            "pipeline",
            k -> TestPipeline.create().enableAbandonedNodeEnforcement(true),
            TestPipeline.class);
  }

  @Override
  public void interceptTestMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext context)
      throws Throwable {
    TestPipeline pipeline = context.getStore(NS).get("pipeline", TestPipeline.class);
    if (pipeline == null) {
      invocation.proceed();
      return;
    }
    Statement body =
        new Statement() {
          @Override
          public void evaluate() throws Throwable {
            invocation.proceed();
          }
        };
    Description description =
        Description.createTestDescription(
            context.getRequiredTestClass(), context.getRequiredTestMethod().getName());
    pipeline.apply(body, description).evaluate();
  }
}
