package jhot.sample.shop.owner;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PastOrPresent;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

import java.time.LocalDate;

/** A new visit of a pet (POST /api/pets/{petId}/visits). */
public record VisitForm(@NotNull @PastOrPresent @Nullable LocalDate date, @NotBlank @Size(max = 255) String description) {
}
