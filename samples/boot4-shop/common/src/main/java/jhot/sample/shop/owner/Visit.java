package jhot.sample.shop.owner;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import jhot.sample.shop.model.BaseEntity;
import org.jspecify.annotations.Nullable;

import java.time.LocalDate;

@Entity
@Table(name = "visits")
public class Visit extends BaseEntity {
    @Column(name = "visit_date", nullable = false)
    private LocalDate date = LocalDate.EPOCH;

    @Column(name = "description", nullable = false)
    private String description = "";

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "pet_id")
    private @Nullable Pet pet;

    public LocalDate getDate() {
        return date;
    }

    public void setDate(LocalDate date) {
        this.date = date;
    }

    public String getDescription() {
        return description;
    }

    public void setDescription(String description) {
        this.description = description;
    }

    public @Nullable Pet getPet() {
        return pet;
    }

    void setPet(@Nullable Pet pet) {
        this.pet = pet;
    }
}
