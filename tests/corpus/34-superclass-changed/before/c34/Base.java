package c34;

public class Base {
}
