package jhot.sample.shop.owner;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/** A new owner, from the HTML form (POST /owners/new) or as JSON (POST /api/owners). */
public class OwnerForm {
    @NotBlank
    @Size(max = 80)
    private String firstName = "";

    @NotBlank
    @Size(max = 80)
    private String lastName = "";

    @NotBlank
    @Size(max = 255)
    private String address = "";

    @NotBlank
    @Size(max = 80)
    private String city = "";

    @NotBlank
    @Pattern(regexp = "\\d{10}", message = "must be 10 digits")
    private String telephone = "";

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

    public String getAddress() {
        return address;
    }

    public void setAddress(String address) {
        this.address = address;
    }

    public String getCity() {
        return city;
    }

    public void setCity(String city) {
        this.city = city;
    }

    public String getTelephone() {
        return telephone;
    }

    public void setTelephone(String telephone) {
        this.telephone = telephone;
    }
}
