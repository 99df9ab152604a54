package c16;

@Marker("class")
@Deprecated
public class A {
    @Marker("field")
    int size;

    @Marker("method")
    @Deprecated
    public int size() {
        return size;
    }
}
