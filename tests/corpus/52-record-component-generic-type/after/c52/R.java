package c52;

import java.util.List;

public record R(List<CharSequence> items) {
}
