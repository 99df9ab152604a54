package jhot.sample.shop.model;

import jakarta.persistence.Column;
import jakarta.persistence.MappedSuperclass;

/** A person (owners and vets). */
@MappedSuperclass
public abstract class Person extends BaseEntity {
    @Column(name = "first_name", nullable = false, length = 80)
    private String firstName = "";

    @Column(name = "last_name", nullable = false, length = 80)
    private String lastName = "";

    public String getFirstName() {
        return firstName;
    }

    public void setFirstName(String firstName) {
        this.firstName = firstName;
    }

    public String getLastName() {
        return lastName;
    }

    public void setLastName(String lastName) {
        this.lastName = lastName;
    }

    public String getFullName() {
        return firstName + " " + lastName;
    }
}
