package hello;

/**
 * The request handler shared by both server implementations. Each route calls into a class that a
 * patch in {@code samples/hello-http/patches/} replaces.
 */
final class Routes {
    private Routes() {}

    /** A response: status code and text body. */
    static final class Response {
        final int status;
        final String body;

        Response(int status, String body) {
            this.status = status;
            this.body = body;
        }
    }

    static Response handle(String method, String path) {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return new Response(405, "method not allowed\n");
        }
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        try {
            switch (path) {
                case "/":
                    return ok(Greeter.greet());
                case "/hot":
                    return ok(Integer.toString(HotLoop.latest()));
                case "/lazy":
                    // First use of hello.Lazy: the class is not loaded before the first request here.
                    return ok(Lazy.answer());
                case "/isolated":
                    return ok(Isolated.greet());
                case "/lambda":
                    return ok(Greeter.decorate("hi"));
                case "/fields":
                    return ok(Integer.toString(Greeter.fieldCount()));
                case "/pid":
                    return ok(Long.toString(ProcessHandle.current().pid()));
                case "/health":
                    return ok("ok");
                case "/anonymous":
                    return ok(anonymous().get());
                default:
                    return new Response(404, "not found\n");
            }
        } catch (RuntimeException | Error | ReflectiveOperationException e) {
            e.printStackTrace();
            return new Response(500, e + "\n");
        }
    }

    /** {@code GET /anonymous}: an anonymous class (hello.Routes$1) that no test requests, so it
     *  never loads: `jhot jad` must still show it. */
    private static java.util.function.Supplier<String> anonymous() {
        return new java.util.function.Supplier<String>() {
            @Override
            public String get() {
                return "anonymous v1";
            }
        };
    }

    private static Response ok(String s) {
        return new Response(200, s + "\n");
    }

    static String reason(int status) {
        switch (status) {
            case 200: return "OK";
            case 400: return "Bad Request";
            case 404: return "Not Found";
            case 405: return "Method Not Allowed";
            case 500: return "Internal Server Error";
            default: return "Status";
        }
    }
}
