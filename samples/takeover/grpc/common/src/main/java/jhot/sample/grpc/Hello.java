package jhot.sample.grpc;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The service {@code jhot.Hello}, without protoc: two unary methods whose request and response are
 * UTF-8 strings (the load client, grpc-load.jar, declares the same two descriptors).
 *
 * <ul>
 *   <li>{@code jhot.Hello/Say}: any request; answers {@code "hello from v1 pid=N"} (v2: {@code v2}).
 *   <li>{@code jhot.Hello/Slow}: the request is a number of milliseconds (0..600000); answers as
 *       {@code Say} after that long. Anything else: {@code INVALID_ARGUMENT}.
 * </ul>
 */
public final class Hello {
    public static final String SERVICE = "jhot.Hello";
    public static final long MAX_SLOW_MS = 600_000;

    public static final MethodDescriptor<String, String> SAY = unary("Say");
    public static final MethodDescriptor<String, String> SLOW = unary("Slow");

    private Hello() {}

    private static MethodDescriptor<String, String> unary(String name) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(Utf8.INSTANCE)
                .setResponseMarshaller(Utf8.INSTANCE)
                .build();
    }

    /** A message is its UTF-8 bytes. */
    static final class Utf8 implements MethodDescriptor.Marshaller<String> {
        static final Utf8 INSTANCE = new Utf8();

        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
