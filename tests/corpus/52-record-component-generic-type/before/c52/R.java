package c52;

import java.util.List;

public record R(List<String> items) {
}
