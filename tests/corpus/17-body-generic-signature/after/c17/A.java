package c17;

import java.util.ArrayList;
import java.util.List;

public class A {
    List<CharSequence> names = new ArrayList<>();

    public List<CharSequence> names() {
        return names;
    }
}
