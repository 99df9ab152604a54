package jhot.sample.shop.model;

import jakarta.persistence.Column;
import jakarta.persistence.MappedSuperclass;

/** An entity with a name (pet types, specialties, pets). */
@MappedSuperclass
public abstract class NamedEntity extends BaseEntity {
    @Column(name = "name", nullable = false, length = 80)
    private String name = "";

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    @Override
    public String toString() {
        return name;
    }
}
