package jhot.sample.shop.vet;

import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import jhot.sample.shop.model.NamedEntity;

@Entity
@Table(name = "specialties")
public class Specialty extends NamedEntity {
}
