package c17;

import java.util.ArrayList;
import java.util.List;

public class A {
    List<String> names = new ArrayList<>();

    public List<String> names() {
        return names;
    }
}
