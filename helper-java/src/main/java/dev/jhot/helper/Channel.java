package dev.jhot.helper;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Frame;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/** Frames on the helper's stdin and stdout (docs/protocol.md, "Framing"). */
final class Channel {
    /** jhot closed the pipe, or wrote something that is not a frame, while a request ran. */
    static final class Lost extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Lost(String message) {
            super(message);
        }
    }

    private final DataInputStream in;
    private final OutputStream out;

    Channel(DataInputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    Frame read() throws IOException, Failure {
        int len = in.readInt();
        if (len < 9 || len > Frame.MAX_BODY) throw Failure.protocol("frame length " + len + " out of range");
        byte[] body = new byte[len];
        in.readFully(body);
        return Frame.decode(body);
    }

    void write(Map<String, ?> header, List<byte[]> blobs) {
        try {
            out.write(Frame.encode(header, blobs));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
