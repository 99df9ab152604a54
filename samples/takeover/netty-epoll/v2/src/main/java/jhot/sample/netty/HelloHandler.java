package jhot.sample.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Answers every request (v2). Routes: {@code /}, {@code /slow?ms=N} (sleeps on a {@link Slow}
 * worker, not on the event loop), {@code /health}. One instance serves all connections.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): the superclass
 * changes from {@code SimpleChannelInboundHandler<FullHttpRequest>} to
 * {@code ChannelInboundHandlerAdapter}, so {@code channelRead0} is replaced by {@code channelRead},
 * which releases the request itself; and it answers "hello from v2" with {@code X-Gen: v2}.
 * Everything else is identical to v1.
 */
@ChannelHandler.Sharable
final class HelloHandler extends ChannelInboundHandlerAdapter {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD = "bad request\n".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SLEEP_MS = 600_000;

    private final byte[] hello = ("hello from " + version() + "\n").getBytes(StandardCharsets.US_ASCII);
    private final String pid = Long.toString(ProcessHandle.current().pid());
    private final Slow slow;

    HelloHandler(Slow slow) {
        this.slow = slow;
    }

    static String version() {
        return "v2";
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            answer(ctx, (FullHttpRequest) msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void answer(ChannelHandlerContext ctx, FullHttpRequest req) {
        HttpVersion httpVersion = req.protocolVersion();
        if (!req.decoderResult().isSuccess()) {
            ctx.writeAndFlush(response(httpVersion, HttpResponseStatus.BAD_REQUEST, BAD))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        switch (q.path()) {
            case "/":
                ctx.writeAndFlush(response(httpVersion, HttpResponseStatus.OK, hello));
                break;
            case "/slow": {
                long ms = queryLong(q, "ms");
                if (ms < 0) {
                    ctx.writeAndFlush(response(httpVersion, HttpResponseStatus.BAD_REQUEST, BAD));
                } else {
                    slow.run(Math.min(ms, MAX_SLEEP_MS), () -> write(ctx, httpVersion, HttpResponseStatus.OK, hello));
                }
                break;
            }
            case "/health":
                ctx.writeAndFlush(response(httpVersion, HttpResponseStatus.OK, OK));
                break;
            default:
                ctx.writeAndFlush(response(httpVersion, HttpResponseStatus.NOT_FOUND, NOT_FOUND));
        }
    }

    private ChannelFuture write(ChannelHandlerContext ctx, HttpVersion v, HttpResponseStatus status, byte[] body) {
        return ctx.writeAndFlush(response(v, status, body)); // from a worker: Netty hands it to the event loop
    }

    private FullHttpResponse response(HttpVersion v, HttpResponseStatus status, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(v, status, Unpooled.wrappedBuffer(body));
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set("X-Gen", version())
                .set("X-Pid", pid);
        return r;
    }

    /** The value of query parameter {@code name} (0 when absent), or -1 when it is not a number. */
    private static long queryLong(QueryStringDecoder q, String name) {
        List<String> values = q.parameters().get(name);
        if (values == null || values.isEmpty() || values.get(0).isEmpty()) return 0;
        try {
            return Long.parseLong(values.get(0));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
