package jhot.sample.shop.owner;

import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import jhot.sample.shop.model.NamedEntity;

@Entity
@Table(name = "pet_types")
public class PetType extends NamedEntity {
}
