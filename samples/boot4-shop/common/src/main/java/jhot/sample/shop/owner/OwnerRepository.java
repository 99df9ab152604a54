package jhot.sample.shop.owner;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

import java.util.List;
import java.util.Optional;

public interface OwnerRepository extends JpaRepository<Owner, Integer> {
    List<Owner> findByLastNameStartingWithIgnoreCaseOrderByLastNameAscFirstNameAsc(String lastName);

    @Query("select distinct o from Owner o left join fetch o.pets p left join fetch p.type where o.id = :id")
    Optional<Owner> findWithPets(@Param("id") Integer id);

    @Query("select count(p) from Pet p where p.owner.id = :ownerId")
    long countPets(@Param("ownerId") Integer ownerId);
}
